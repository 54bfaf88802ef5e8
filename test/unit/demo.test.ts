// The pieces of `npm run demo` that can be checked without a cluster: the ORCA config it generates
// parses with the code ORCA runs, the quickstart Job's annotations parse as ORCA reads them, a state
// whose processes are gone is stale while one with a live process is not, and the instance view.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify, parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { demoConfig } from '../../scripts/demo/orca-config.js';
import { descendants, isAlive, stopPids } from '../../scripts/demo/processes.js';
import { demoPaths, livePids, recordedPids, writeJson, type BedInfo, type DemoState } from '../../scripts/demo/state.js';
import { describeInstance } from '../../scripts/demo/user-view.js';
import { parseConfig } from '../../src/config/load.js';
import { parsePodHints } from '../../src/domain/annotations.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const bed: BedInfo = {
  kubeconfig: '/demo/run/kubeconfig', kubectl: '/cache/kubectl', apiserverUrl: 'https://127.0.0.1:6443', awsCli: '/cache/aws',
  aws: { endpoint: 'http://127.0.0.1:5000', region: 'us-east-1', accessKeyId: 'testing', secretAccessKey: 'testing' },
  pki: { caCert: '/demo/run/pki/ca.crt', orcaServingCert: '/demo/run/pki/orca-serving.crt', orcaServingKey: '/demo/run/pki/orca-serving.key' },
  components: [{ name: 'etcd', pid: 999_999_001, logFile: '/demo/run/logs/etcd.log' }],
};

const started: number[] = [];
afterEach(async () => { await stopPids(started.splice(0), 2000); });

function sleeper(): number {
  const child = spawn('sh', ['-c', 'sleep 60 & wait'], { stdio: 'ignore' });
  started.push(child.pid ?? 0);
  return child.pid ?? 0;
}

/** A pid that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

describe('the demo\'s ORCA config', () => {
  it('parses with ORCA\'s own config code: EC2 provider on the emulator, the bed\'s serving certificate, a 1 s poll', () => {
    const text = stringify(demoConfig({ bed, endpoint: 'http://127.0.0.1:5001', subnets: [{ id: 'subnet-0123456789abcdef0', zone: 'us-east-1a' }], kubeletPort: 10250, opsPort: 8081 }));
    const r = parseConfig(text);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.aws).toMatchObject({ endpoint: 'http://127.0.0.1:5001', subnets: [{ zone: 'us-east-1a', subnetID: 'subnet-0123456789abcdef0' }] });
    expect(r.value.kubeletApi).toMatchObject({ host: '127.0.0.1', tlsCertFile: bed.pki.orcaServingCert, clientCAFile: bed.pki.caCert });
    expect(r.value.instances.pollSeconds).toBe(1);
    expect(r.value.ops).toEqual({ host: '127.0.0.1', port: 8081 });
  });
});

describe('examples/quickstart-job.yaml', () => {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'examples', 'quickstart-job.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  interface Job { metadata: { namespace: string }; spec: { template: { metadata: { annotations: Record<string, string> }; spec: { tolerations: unknown[]; containers: { resources: { limits: Record<string, unknown> } }[] } } } }

  it('is the demo namespace and a Job in it whose pod ORCA accepts: a g6.xlarge, one GPU, the virtual node\'s toleration', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'Job']);
    const job = docs[1] as unknown as Job;
    expect(job.metadata.namespace).toBe('demo');
    const hints = parsePodHints(job.spec.template.metadata.annotations, { capacityOrder: ['on-demand'], onInterruption: 'fail' });
    expect(hints.ok ? hints.value.instanceType : hints.error).toBe('g6.xlarge');
    expect(job.spec.template.spec.containers[0]?.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(job.spec.template.spec.tolerations).toContainEqual(expect.objectContaining({ key: 'virtual-kubelet.io/provider' }));
  });
});

describe('the demo\'s state', () => {
  it('is stale when none of its processes runs, and live while one does', async () => {
    const paths = demoPaths({ ORCA_DEMO_DIR: mkdtempSync(join(tmpdir(), 'orca-demo-unit-')) });
    const stale: DemoState = { startedAt: '2026-01-01T00:00:00.000Z', upPid: await deadPid(), bed };
    writeJson(paths.state, stale);
    expect(livePids(paths)).toEqual([]);
    const pid = sleeper();
    writeJson(paths.state, { ...stale, supervisorPid: pid });
    expect(livePids(paths)).toEqual([pid]);
    rmSync(paths.dir, { recursive: true, force: true });
  });

  it('records the up, the bed\'s components, the supervisor and ORCA', () => {
    const state: DemoState = { startedAt: '', upPid: 1, bed, supervisorPid: 2 };
    expect(recordedPids(state, { pid: 2, orcaPid: 3, node: 'n', clusterId: 'c', ports: {}, orcaLog: '' })).toEqual([1, 999_999_001, 2, 3]);
  });
});

describe('the demo\'s processes', () => {
  it('finds a process\'s children and stops them', async () => {
    const pid = sleeper();
    let below: number[] = [];
    for (let i = 0; i < 50 && below.length === 0; i++) {
      below = descendants([pid]);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(below.length).toBe(1);
    await stopPids([...below, pid], 2000);
    expect([pid, ...below].filter(isAlive)).toEqual([]);
  });
});

describe('the instance view', () => {
  it('shows an instance without a lifecycle as on-demand and ORCA\'s tags but the agent\'s reports', () => {
    const text = describeInstance({
      InstanceId: 'i-0abc', InstanceType: 'g6.xlarge', State: { Name: 'terminated' }, Placement: { AvailabilityZone: 'us-east-1a' },
      Tags: [{ Key: 'orca.research/pod-name', Value: 'quickstart-x' }, { Key: 'orca.research/agent', Value: 'v1 …' }, { Key: 'team', Value: 'a' }],
    });
    expect(text).toContain('Lifecycle     on-demand\nZone          us-east-1a');
    expect(text).toContain('  orca.research/pod-name=quickstart-x');
    expect(text).not.toContain('orca.research/agent');
    expect(text).not.toContain('team=a');
  });
});
