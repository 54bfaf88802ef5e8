// The pod's assignment: built when the pod is created (nothing launches while a ConfigMap or
// Secret is missing, or for a volume an instance cannot provide), stored for its instance once it
// has one, stored again at the next poll after a failure, and deleted with the pod.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigRefError, PodRejectedError } from '../domain/errors.js';
import type { Pod } from '../domain/pod.js';
import { configData, env, FakeAssignments, ref, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';

afterEach(() => {
  stopProviders();
  configData.maps = {};
  configData.secrets = {};
});

const secretPod = (over: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { namespace: 'lab', name: 'train-0', uid: 'uid-1', annotations: { 'orca.research/instance-type': 'p5.48xlarge' } },
  spec: {
    containers: [{ name: 'main', image: 'pytorch', env: [{ name: 'WANDB_API_KEY', valueFrom: { secretKeyRef: { name: 'wandb', key: 'key' } } }], resources: { limits: { 'nvidia.com/gpu': '8' } } }],
    ...over,
  },
});

describe('Ec2Provider assignments', () => {
  it('stores the assignment for the instance, with the secret value only there', async () => {
    configData.secrets = { wandb: { key: 'wandb-s3cr3t-value' } };
    const store = new FakeAssignments();
    const e = env({}, new FakeLauncher(), new FakeClock(), { assignments: store });
    await e.create(secretPod());
    const text = store.byInstance.get('i-0001') ?? '';
    expect(text).toContain("-e 'WANDB_API_KEY=wandb-s3cr3t-value'");
    expect(text).toContain("orca_gpus_main='0,1,2,3,4,5,6,7'");
    const spec = JSON.stringify(e.launcher.specs);
    expect(spec).not.toContain('wandb-s3cr3t-value');
    expect(JSON.stringify(e.launcher.tagged)).not.toContain('wandb-s3cr3t-value');
    expect(JSON.stringify(e.events.events)).not.toContain('wandb-s3cr3t-value');
    await e.provider.deletePod(ref);
    expect(store.removed).toEqual(['i-0001']);
    expect(store.byInstance.size).toBe(0);
  });

  it('launches nothing while a referenced Secret is missing', async () => {
    const e = env();
    await expect(e.provider.createPod(secretPod())).rejects.toBeInstanceOf(ConfigRefError);
    await e.provider.flush();
    expect(e.launcher.specs).toEqual([]);
  });

  it('refuses a PVC volume at create time, with its name, and launches nothing', async () => {
    configData.secrets = { wandb: { key: 'k' } };
    const e = env();
    await expect(e.provider.createPod(secretPod({ volumes: [{ name: 'ckpt', persistentVolumeClaim: { claimName: 'ckpt' } }] })))
      .rejects.toEqual(new PodRejectedError('UnsupportedVolume', 'volume ckpt: persistentVolumeClaim volumes are not supported on burst instances (use emptyDir, configMap, secret or downwardAPI)'));
    expect(e.launcher.specs).toEqual([]);
  });

  it.each([
    ['{"auths": {"registry.example": ', 'that is not valid JSON'],
    ['["registry.example"]', 'without an "auths" object'],
  ])('refuses a pod whose pull Secret holds a malformed .dockerconfigjson (%s), launching nothing, instead of retrying', async (raw, problem) => {
    configData.secrets = { wandb: { key: 'k' }, regcred: { '.dockerconfigjson': raw } };
    const e = env();
    await expect(e.provider.createPod(secretPod({ imagePullSecrets: [{ name: 'regcred' }] })))
      .rejects.toEqual(new PodRejectedError('InvalidImagePullSecret', `imagePullSecrets: Secret "regcred" has a .dockerconfigjson ${problem}`));
    await e.flush();
    expect(e.launcher.specs).toEqual([]);
  });

  it('refuses a pod whose instance would carry more than EC2\'s 50 tags, launching nothing', async () => {
    const tags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`cost-${String(i)}`, 'x']));
    const e = env({ tags });
    const containers = Array.from({ length: 3 }, (_, i) => ({ name: `c${String(i)}`, image: 'pytorch' }));
    await expect(e.provider.createPod({ ...secretPod(), spec: { containers } }))
      .rejects.toEqual(new PodRejectedError('TooManyTags', 'the instance would carry 54 tags (aws.tags, ORCA\'s own, one per container); EC2 allows 50'));
    await e.flush();
    expect(e.launcher.specs).toEqual([]);
  });

  it('stores the assignment again at the next poll when the first write failed', async () => {
    configData.secrets = { wandb: { key: 'k' } };
    const store = new FakeAssignments();
    store.failing = true;
    const e = env({}, new FakeLauncher(), new FakeClock(), { assignments: store });
    await e.create(secretPod());
    expect(store.byInstance.size).toBe(0);
    store.failing = false;
    await e.provider.poll();
    expect([...store.byInstance.keys()]).toEqual(['i-0001']);
  });
});

describe('Ec2Provider assignments after a restart', () => {
  it('rebuilds and stores the assignment of an agent still waiting a minute after launch, from the pod', async () => {
    configData.secrets = { wandb: { key: 'k' } };
    const launcher = new FakeLauncher();
    const clock = new FakeClock(Date.parse('2026-11-23T12:00:00Z'));
    const lost = new FakeAssignments();
    lost.failing = true;
    const first = env({}, launcher, clock, { assignments: lost });
    await first.create(secretPod());
    stopProviders();
    launcher.setState('i-0001', 'running');
    await launcher.tag(['i-0001'], { 'orca.research/state': 'v1 WaitingForAssignment - -' });
    const store = new FakeAssignments();
    const again = env({}, launcher, clock, { assignments: store, podLookup: (key) => (key === ref.key ? secretPod() : undefined) });
    await again.provider.poll();
    expect(store.byInstance.size).toBe(0);
    await clock.advance(61_000);
    await again.provider.poll();
    expect(store.byInstance.get('i-0001')).toContain("-e 'WANDB_API_KEY=k'");
    expect(store.removed).toEqual(['i-0001']);
    expect(launcher.specs).toHaveLength(1);
  });
});
