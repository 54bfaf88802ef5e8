// An in-memory EC2: launches instances (idempotent by ClientToken, as many as an offering has
// capacity for), fails chosen offerings, tags, and answers listTagged from what it launched.
import { LaunchError, TerminateRefusedError, type LaunchErrorKind } from '../../src/domain/errors.js';
import type { Instance, LaunchSpec } from '../../src/domain/instance.js';
import type { InstanceLauncher } from '../../src/ports/launcher.js';

export class FakeLauncher implements InstanceLauncher {
  readonly specs: LaunchSpec[] = [];
  readonly terminated: string[] = [];
  readonly tagged: { ids: readonly string[]; tags: Readonly<Record<string, string>> }[] = [];
  readonly instances = new Map<string, Instance>();
  readonly #byToken = new Map<string, string[]>();
  /** Failures by "capacity:type:subnet". */
  failures: Record<string, [LaunchErrorKind, string]> = {};
  /** Instances left by "capacity:type:subnet"; unlimited when absent. */
  capacity: Record<string, number> = {};
  /** Tag calls fail while this is set. */
  tagError: Error | undefined;
  /** Errors thrown by the next terminate calls, in order. */
  readonly terminateFailures: Error[] = [];
  /** Instance ids whose termination always fails (the whole call fails, as EC2 does). */
  readonly terminateRefused = new Set<string>();
  /** Instances launched with termination protection and not unprotected since. */
  readonly protectedIds = new Set<string>();
  /** The ids of every terminate call, one entry per call. */
  readonly terminateCalls: (readonly string[])[] = [];
  readonly unprotected: string[] = [];
  /** listTagged fails with this while it is set. */
  listError: Error | undefined;
  /** listTagged never answers (until its signal aborts) while this is set. */
  listHangs = false;
  zoneOf: (subnet: string) => string = (s) => s.replace('subnet-', 'us-east-1');

  launch(spec: LaunchSpec): Promise<readonly Instance[]> {
    this.specs.push(spec);
    const offering = `${spec.capacity}:${spec.instanceType}:${spec.subnetId}`;
    const f = this.failures[offering];
    if (f !== undefined) return Promise.reject(new LaunchError(f[0], f[1], 'no'));
    const existing = this.#byToken.get(spec.clientToken);
    if (existing !== undefined) return Promise.resolve(existing.map((id) => this.instances.get(id) as Instance));
    const left = this.capacity[offering] ?? Infinity;
    if (left === 0) return Promise.reject(new LaunchError('capacity', 'InsufficientInstanceCapacity', 'no'));
    if (spec.dryRun) return Promise.resolve([]);
    const n = Math.min(spec.count, left);
    if (this.capacity[offering] !== undefined) this.capacity[offering] = left - n;
    const ids = Array.from({ length: n }, () => this.#add(spec));
    if (spec.terminationProtection) for (const id of ids) this.protectedIds.add(id);
    this.#byToken.set(spec.clientToken, ids);
    return Promise.resolve(ids.map((id) => this.instances.get(id) as Instance));
  }

  #add(spec: LaunchSpec): string {
    const id = `i-${String(this.instances.size + 1).padStart(4, '0')}`;
    this.instances.set(id, {
      id, type: spec.instanceType, zone: this.zoneOf(spec.subnetId), state: 'pending', lifecycle: spec.capacity === 'spot' ? 'spot' : 'on-demand',
      launchTime: '2026-11-23T12:00:00Z', privateIp: '10.0.0.9', tags: { ...spec.tags },
    });
    return id;
  }

  tag(ids: readonly string[], tags: Readonly<Record<string, string>>): Promise<void> {
    if (this.tagError !== undefined) return Promise.reject(this.tagError);
    this.tagged.push({ ids, tags });
    for (const id of ids) {
      const i = this.instances.get(id);
      if (i !== undefined) this.instances.set(id, { ...i, tags: { ...i.tags, ...tags } });
    }
    return Promise.resolve();
  }

  terminate(ids: readonly string[]): Promise<void> {
    this.terminateCalls.push([...ids]);
    const failure = this.terminateFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    const refused = ids.find((id) => this.terminateRefused.has(id) || this.protectedIds.has(id));
    if (refused !== undefined && this.protectedIds.has(refused)) return Promise.reject(new TerminateRefusedError('protected', [refused], `The instance '${refused}' may not be terminated`));
    if (refused !== undefined) return Promise.reject(new TerminateRefusedError('refused', [refused], `The instance '${refused}' cannot be terminated now`));
    for (const id of ids) {
      this.terminated.push(id);
      const i = this.instances.get(id);
      if (i !== undefined) this.instances.set(id, { ...i, state: 'terminated' });
    }
    return Promise.resolve();
  }

  unprotect(id: string): Promise<void> {
    this.unprotected.push(id);
    this.protectedIds.delete(id);
    return Promise.resolve();
  }

  listTagged(key: string, value: string, signal?: AbortSignal): Promise<readonly Instance[]> {
    if (this.listError !== undefined) return Promise.reject(this.listError);
    if (this.listHangs) {
      return new Promise((_resolve, reject) => { signal?.addEventListener('abort', () => { reject(new Error('aborted')); }, { once: true }); });
    }
    return Promise.resolve([...this.instances.values()].filter((i) => i.tags[key] === value));
  }

  setState(id: string, state: Instance['state']): void {
    const i = this.instances.get(id);
    if (i !== undefined) this.instances.set(id, { ...i, state });
  }
}
