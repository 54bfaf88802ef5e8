import { describe, expect, it } from 'vitest';
import { ConfigRefError, PodRejectedError } from '../domain/errors.js';
import type { ContainerSpec, Pod } from '../domain/pod.js';
import type { ConfigSource } from '../ports/kube.js';
import { expand, resolveEnv } from './env.js';

const maps: Record<string, Record<string, string>> = { settings: { MODE: 'train', 'bad key': 'x', EPOCHS: '3' } };
const secrets: Record<string, Record<string, string>> = { creds: { WANDB_API_KEY: 's3cr3t' } };
const reads: string[] = [];
const src: ConfigSource = {
  configMap: (_ns, name) => { reads.push(`cm/${name}`); return Promise.resolve(maps[name]); },
  secret: (_ns, name) => { reads.push(`secret/${name}`); return Promise.resolve(secrets[name]); },
};
const pod: Pod = {
  metadata: { namespace: 'lab', name: 'train-0', uid: 'u-1', labels: { team: 'vision' }, annotations: { 'a/b': 'c' } },
  spec: { nodeName: 'orca', serviceAccountName: 'runner', containers: [] },
  status: { hostIP: '10.0.0.5', podIP: '10.9.9.9' },
};
const env = (c: Omit<ContainerSpec, 'name'>) => resolveEnv(pod, { name: 'main', ...c }, src);

describe('resolveEnv', () => {
  it('applies envFrom (with prefix, skipping invalid names) then env, later names winning', async () => {
    const r = await env({
      envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'S_', secretRef: { name: 'creds' } }],
      env: [{ name: 'MODE', value: 'eval' }, { name: 'RUN', value: '$(MODE)-$(EPOCHS)-$(NOPE)-$$(MODE)' }],
    });
    expect(r).toEqual([
      { name: 'MODE', value: 'eval', secret: false },
      { name: 'EPOCHS', value: '3', secret: false },
      { name: 'S_WANDB_API_KEY', value: 's3cr3t', secret: true },
      { name: 'RUN', value: 'eval-3-$(NOPE)-$(MODE)', secret: false },
    ]);
  });

  it('reads key references and marks Secret values as secret', async () => {
    const r = await env({ env: [
      { name: 'KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'WANDB_API_KEY' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'x', optional: true } } },
    ] });
    expect(r).toEqual([{ name: 'KEY', value: 's3cr3t', secret: true }, { name: 'MODE', value: 'train', secret: false }]);
  });

  it('serves the downward API fields a kubelet serves', async () => {
    const paths = ['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['team']", "metadata.annotations['a/b']",
      'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.podIP'];
    const r = await env({ env: paths.map((p, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: p } } })) });
    expect(r.map((v) => v.value)).toEqual(['train-0', 'lab', 'u-1', 'vision', 'c', 'orca', 'runner', '10.0.0.5', '10.9.9.9']);
  });

  it('reads each ConfigMap and Secret once', async () => {
    reads.length = 0;
    await env({ envFrom: [{ configMapRef: { name: 'settings' } }], env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } }] });
    expect(reads).toEqual(['cm/settings']);
  });

  it.each([
    ['a missing ConfigMap', { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, 'configmap "nope" not found'],
    ['a missing key', { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }] }, 'couldn\'t find key nope in secret "creds"'],
    ['a missing envFrom Secret', { envFrom: [{ secretRef: { name: 'nope' } }] }, 'secret "nope" not found'],
  ])('waits (ConfigRefError, CreateContainerConfigError) on %s', async (_w, c, message) => {
    const e = await env(c).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigRefError);
    expect(e).toMatchObject({ message, reason: 'CreateContainerConfigError' });
  });

  it('rejects env sources it cannot serve', async () => {
    await expect(env({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } }] }))
      .rejects.toEqual(new PodRejectedError('UnsupportedFieldRef', 'env fieldRef status.podIPs is not supported'));
    await expect(env({ env: [{ name: 'A', valueFrom: {} }] })).rejects.toBeInstanceOf(PodRejectedError);
  });
});

describe('expand', () => {
  it('leaves unknown references and unbalanced text as written', () => {
    expect(expand('$(A)$(B)$(A', new Map([['A', '1']]))).toBe('1$(B)$(A');
  });
});
