// An in-memory EC2: launches instances (idempotent by ClientToken), fails chosen offerings, and
// answers listTagged from what it launched.
import { LaunchError, type LaunchErrorKind } from '../../src/domain/errors.js';
import type { Instance, LaunchSpec } from '../../src/domain/instance.js';
import type { InstanceLauncher } from '../../src/ports/launcher.js';

export class FakeLauncher implements InstanceLauncher {
  readonly specs: LaunchSpec[] = [];
  readonly terminated: string[] = [];
  readonly instances = new Map<string, Instance>();
  readonly #byToken = new Map<string, string>();
  /** Failures by "capacity:type:subnet". */
  failures: Record<string, [LaunchErrorKind, string]> = {};
  zoneOf: (subnet: string) => string = (s) => s.replace('subnet-', 'us-east-1');

  launch(spec: LaunchSpec): Promise<readonly Instance[]> {
    this.specs.push(spec);
    const f = this.failures[`${spec.capacity}:${spec.instanceType}:${spec.subnetId}`];
    if (f !== undefined) return Promise.reject(new LaunchError(f[0], f[1], 'no'));
    if (spec.dryRun) return Promise.resolve([]);
    const existing = this.#byToken.get(spec.clientToken);
    if (existing !== undefined) return Promise.resolve([this.instances.get(existing) as Instance]);
    const id = `i-${String(this.instances.size + 1).padStart(4, '0')}`;
    const i: Instance = {
      id, type: spec.instanceType, zone: this.zoneOf(spec.subnetId), state: 'pending', lifecycle: spec.capacity === 'spot' ? 'spot' : 'on-demand',
      launchTime: '2026-11-23T12:00:00Z', privateIp: '10.0.0.9', tags: { ...spec.tags },
    };
    this.instances.set(id, i);
    this.#byToken.set(spec.clientToken, id);
    return Promise.resolve([i]);
  }

  terminate(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.terminated.push(id);
      const i = this.instances.get(id);
      if (i !== undefined) this.instances.set(id, { ...i, state: 'terminated' });
    }
    return Promise.resolve();
  }

  listTagged(key: string, value: string): Promise<readonly Instance[]> {
    return Promise.resolve([...this.instances.values()].filter((i) => i.tags[key] === value));
  }

  setState(id: string, state: Instance['state']): void {
    const i = this.instances.get(id);
    if (i !== undefined) this.instances.set(id, { ...i, state });
  }
}
