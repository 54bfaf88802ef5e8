import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const minimal = 'aws:\n  region: us-east-1\nnode:\n  name: orca-gpu\n';

describe('parseConfig', () => {
  it('fills every default from a minimal file and freezes the result', () => {
    const r = parseConfig(minimal);
    if (!r.ok) throw r.error;
    expect(r.value.logging.level).toBe('info');
    expect(r.value.ops).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(r.value.node.capacity.pods).toBe(1000);
    expect(r.value.node.taints).toEqual([]);
    expect(Object.isFrozen(r.value.node.capacity)).toBe(true);
  });

  it('boots every accelerator kind without configuration: the NVIDIA and Neuron DLAMIs, Amazon Linux 2023', () => {
    const r = parseConfig(minimal);
    if (!r.ok) throw r.error;
    expect(r.value.instances.images).toEqual({
      nvidia: '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id',
      neuron: '/aws/service/neuron/dlami/base/ubuntu-24.04/latest/image_id',
      cpu: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
  });

  it.each([
    '/aws/service/neuron/dlami/base/amazon-linux-2023/latest/image_id', '/aws/service/neuron/dlami/multi-framework/ubuntu-24.04/latest/image_id', 'ami-0123456789abcdef0',
  ])('takes %s as the Neuron image', (neuron) => {
    const r = parseConfig(`${minimal}instances:\n  images:\n    neuron: ${neuron}\n`);
    expect(r.ok ? r.value.instances.images.neuron : r.error.problems).toBe(neuron);
  });

  it.each(['768Gi', '500m', '1.5', '1k', '2e3'])('takes the Kubernetes quantity %s as capacity', (memory) => {
    const r = parseConfig(`${minimal}  capacity:\n    memory: "${memory}"\n`);
    expect(r.ok ? r.value.node.capacity.memory : r.error.problems).toBe(memory);
  });

  it.each(['1K', '-1', '5 Gi'])('refuses %j as capacity, as the API server would', (memory) => {
    const r = parseConfig(`${minimal}  capacity:\n    memory: "${memory}"\n`);
    expect(r.ok ? r.value : r.error.problems).toEqual(['node.capacity.memory: a Kubernetes quantity such as "96", "500m" or "768Gi"']);
  });

  it('lets command-line values win over the file', () => {
    const r = parseConfig(minimal, { nodeName: 'other-node', logLevel: 'debug' });
    if (!r.ok) throw r.error;
    expect([r.value.node.name, r.value.logging.level]).toEqual(['other-node', 'debug']);
  });

  it.each([
    ['a missing required section', 'aws:\n  region: us-east-1\n', ['node: Invalid input: expected object, received undefined']],
    ['an unknown key', `${minimal}  gpu: 8\n`, ['node: Unrecognized key: "gpu"']],
    ['an unknown top-level key', `${minimal}limits: {}\n`, ['(top level): Unrecognized key: "limits"']],
    ['a bad region', 'aws:\n  region: us-east\nnode:\n  name: n\n', ['aws.region: an AWS region such as us-east-1']],
    ['a bad endpoint', 'aws:\n  region: us-east-1\n  endpoint: nope\nnode:\n  name: n\n', ['aws.endpoint: Invalid URL']],
    ['a bad quantity', `${minimal}  capacity:\n    memory: lots\n`, ['node.capacity.memory: a Kubernetes quantity such as "96", "500m" or "768Gi"']],
    ['a bad taint effect', `${minimal}  taints:\n    - key: k\n      effect: Never\n`, ['node.taints.0.effect: Invalid option: expected one of "NoSchedule"|"PreferNoSchedule"|"NoExecute"']],
    ['a bad log level', `${minimal}logging:\n  level: loud\n`, ['logging.level: Invalid option: expected one of "trace"|"debug"|"info"|"warn"|"error"|"fatal"']],
    ['a port out of range', `${minimal}ops:\n  port: 70000\n`, ['ops.port: Too big: expected number to be <=65535']],
    ['duplicate keys', 'aws:\n  region: us-east-1\naws:\n  region: us-west-2\nnode:\n  name: n\n', ['YAML: Map keys must be unique at line 3, column 1']],
    ['a file that is not a mapping', '- a\n- b\n', ['(top level): Invalid input: expected object, received array']],
  ])('rejects %s with a message naming the key', (_what, text, problems) => {
    const r = parseConfig(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('ORCA_ERR_CONFIG');
    expect(r.error.problems).toEqual(problems);
  });

  it('reports every problem at once, not only the first', () => {
    const r = parseConfig('aws:\n  region: mars\n  vpcID: x\nnode:\n  name: Bad_Name\n');
    expect(r.ok ? [] : r.error.problems).toHaveLength(3);
  });

  it('treats an empty file as missing both required sections', () => {
    const r = parseConfig('');
    expect(r.ok ? [] : r.error.problems.map((p) => p.split(':')[0])).toEqual(['aws', 'node']);
  });
});
