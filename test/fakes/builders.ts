// Builders with defaults for unit tests.
import type { Pod } from '../../src/domain/pod.js';

export function pod(name: string, over: { uid?: string; annotations?: Record<string, string>; status?: Pod['status']; deletionTimestamp?: string } = {}): Pod {
  return {
    metadata: {
      namespace: 'ns', name, uid: over.uid ?? `uid-${name}`, annotations: over.annotations ?? {},
      ...(over.deletionTimestamp === undefined ? {} : { deletionTimestamp: over.deletionTimestamp, deletionGracePeriodSeconds: 30 }),
    },
    spec: { nodeName: 'orca', containers: [{ name: 'main', image: 'img' }], restartPolicy: 'Never' },
    ...(over.status === undefined ? {} : { status: over.status }),
  };
}
