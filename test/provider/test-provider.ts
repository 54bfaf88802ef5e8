// A test double of the EC2 provider (never shipped): it "runs" each pod on a simulated instance whose
// life is driven by the pod's annotations, and keeps its state in an append-only file so that it
// survives an ORCA restart the way EC2 instances do. Annotations (prefix test.orca.research/):
//   start-delay-ms  time from create to Running (default 300)
//   run-ms          time Running before the container exits (default: runs until deleted)
//   exit-code       the container's exit code (default 0)
//   reject          "Reason: message": the pod is rejected at create (PodRejectedError)
//   fail-creates    the first N create calls fail with a transient error
//   stuck-on-delete "true": a delete never stops the pod
// Each container's env is resolved at create with the shared helper (src/provider/env.ts), as every
// provider must; the state file records the variable names only, never values.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { PodRejectedError } from '../../src/domain/errors.js';
import type { ContainerStatus, Pod, PodKey, PodRef } from '../../src/domain/pod.js';
import type { ReportedStatus } from '../../src/domain/pod-status.js';
import type { ProviderPod, RunnableProvider } from '../../src/provider/provider.js';
import { resolveEnv } from '../../src/provider/env.js';
import type { ConfigSource } from '../../src/ports/kube.js';

const A = 'test.orca.research/';

interface Instance {
  readonly uid: string;
  readonly key: PodKey;
  readonly createdAt: number;
  readonly startDelayMs: number;
  readonly runMs: number | null;
  readonly exitCode: number;
  readonly stuck: boolean;
  readonly containers: readonly { readonly name: string; readonly image: string; readonly env: readonly string[] }[];
  deletedAt?: number;
}

type Record_ =
  | { readonly op: 'create'; readonly instance: Instance }
  | { readonly op: 'create-again'; readonly uid: string }
  | { readonly op: 'delete'; readonly uid: string; readonly at: number }
  | { readonly op: 'update'; readonly uid: string; readonly images: readonly string[] };

export interface TestProviderDeps {
  readonly stateFile: string;
  readonly configs: ConfigSource;
  readonly now?: () => number;
}

const t = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class TestProvider implements RunnableProvider {
  readonly #d: TestProviderDeps;
  readonly #instances = new Map<string, Instance>();
  readonly #failuresLeft = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #notify: (key: PodKey) => void = () => undefined;

  constructor(deps: TestProviderDeps) {
    this.#d = deps;
    if (!existsSync(deps.stateFile)) return;
    for (const line of readFileSync(deps.stateFile, 'utf8').split('\n').filter((l) => l !== '')) {
      const r = JSON.parse(line) as Record_;
      if (r.op === 'create') this.#instances.set(r.instance.uid, { ...r.instance });
      if (r.op === 'delete') {
        const i = this.#instances.get(r.uid);
        if (i !== undefined) i.deletedAt = r.at;
      }
    }
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }

  #write(r: Record_): void {
    appendFileSync(this.#d.stateFile, `${JSON.stringify(r)}\n`);
  }

  #notifyAt(key: PodKey, at: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#notify(key);
      // Node may run a timer a millisecond before Date.now() reaches its time: aim a little late,
      // or the status read on notification would still be the old one.
    }, Math.max(0, at - this.#now()) + 20);
    this.#timers.add(timer);
  }

  #schedule(i: Instance): void {
    const start = i.createdAt + i.startDelayMs;
    this.#notifyAt(i.key, start);
    if (i.runMs !== null) this.#notifyAt(i.key, start + i.runMs);
    if (i.deletedAt !== undefined) this.#notifyAt(i.key, i.deletedAt + 50);
  }

  async #instanceFor(pod: Pod): Promise<Instance> {
    const a = pod.metadata.annotations ?? {};
    const num = (k: string, d: number): number => (a[A + k] === undefined ? d : Number(a[A + k]));
    return {
      uid: pod.metadata.uid,
      key: `${pod.metadata.namespace}/${pod.metadata.name}` as PodKey,
      createdAt: this.#now(),
      startDelayMs: num('start-delay-ms', 300),
      runMs: a[`${A}run-ms`] === undefined ? null : num('run-ms', 0),
      exitCode: num('exit-code', 0),
      stuck: a[`${A}stuck-on-delete`] === 'true',
      containers: await Promise.all(pod.spec.containers.map(async (c) => ({
        name: c.name, image: c.image ?? '', env: (await resolveEnv(pod, c, this.#d.configs)).map((v) => v.name),
      }))),
    };
  }

  async createPod(pod: Pod): Promise<void> {
    const a = pod.metadata.annotations ?? {};
    const reject = a[`${A}reject`];
    if (reject !== undefined) {
      const [reason = 'Rejected', ...rest] = reject.split(':');
      throw new PodRejectedError(reason.trim(), rest.join(':').trim());
    }
    const uid = pod.metadata.uid;
    const left = this.#failuresLeft.get(uid) ?? Number(a[`${A}fail-creates`] ?? 0);
    if (left > 0) {
      this.#failuresLeft.set(uid, left - 1);
      throw new Error('simulated provider outage');
    }
    this.#failuresLeft.set(uid, 0);
    if (this.#instances.has(uid)) {
      this.#write({ op: 'create-again', uid });
      return;
    }
    const instance = await this.#instanceFor(pod);
    this.#instances.set(uid, instance);
    this.#write({ op: 'create', instance });
    this.#schedule(instance);
  }

  updatePod(pod: Pod): Promise<void> {
    this.#write({ op: 'update', uid: pod.metadata.uid, images: pod.spec.containers.map((c) => c.image ?? '') });
    return Promise.resolve();
  }

  deletePod(ref: PodRef): Promise<void> {
    const i = this.#instances.get(ref.uid);
    if (i === undefined || i.deletedAt !== undefined) return Promise.resolve();
    i.deletedAt = this.#now();
    this.#write({ op: 'delete', uid: ref.uid, at: i.deletedAt });
    if (!i.stuck) this.#notifyAt(i.key, i.deletedAt + 50);
    return Promise.resolve();
  }

  #containers(i: Instance, state: ContainerStatus['state'], ready: boolean): ContainerStatus[] {
    return i.containers.map((c, n) => ({
      name: c.name, image: c.image, imageID: '', containerID: `test://${i.uid}-${n}`,
      ready, started: ready, restartCount: 0, ...(state === undefined ? {} : { state }),
    }));
  }

  #status(i: Instance): ReportedStatus {
    const now = this.#now();
    const start = i.createdAt + i.startDelayMs;
    const end = i.runMs === null ? Infinity : start + i.runMs;
    const base = { startTime: t(i.createdAt), podIP: '10.99.0.1' };
    if (i.deletedAt !== undefined && !i.stuck && now >= i.deletedAt + 50 && i.deletedAt < end) {
      const terminated = { exitCode: 143, reason: 'Error', startedAt: t(start), finishedAt: t(i.deletedAt + 50) };
      return { ...base, phase: 'Failed', containerStatuses: this.#containers(i, { terminated }, false) };
    }
    if (now < start) {
      return { ...base, phase: 'Pending', containerStatuses: this.#containers(i, { waiting: { reason: 'ContainerCreating' } }, false) };
    }
    if (now < end) return { ...base, phase: 'Running', containerStatuses: this.#containers(i, { running: { startedAt: t(start) } }, true) };
    const terminated = { exitCode: i.exitCode, reason: i.exitCode === 0 ? 'Completed' : 'Error', startedAt: t(start), finishedAt: t(end) };
    return { ...base, phase: i.exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: this.#containers(i, { terminated }, false) };
  }

  getPodStatus(ref: PodRef): Promise<ReportedStatus | undefined> {
    const i = this.#instances.get(ref.uid);
    return Promise.resolve(i === undefined ? undefined : this.#status(i));
  }

  listPods(): Promise<readonly ProviderPod[]> {
    return Promise.resolve([...this.#instances.values()]
      .filter((i) => i.deletedAt === undefined)
      .map((i) => ({ ref: { key: i.key, uid: i.uid }, status: this.#status(i) })));
  }

  onStatusChange(notify: (key: PodKey) => void): void {
    this.#notify = notify;
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const i of this.#instances.values()) this.#schedule(i);
    await new Promise((resolveStop) => { signal.addEventListener('abort', resolveStop, { once: true }); });
    for (const timer of this.#timers) clearTimeout(timer);
  }
}

/** Reads a test provider's state file: every instance it ever created, and repeated creates. */
export function readProviderState(stateFile: string): { instances: Instance[]; createAgain: number; deletes: number; updates: string[][] } {
  const lines = existsSync(stateFile) ? readFileSync(stateFile, 'utf8').split('\n').filter((l) => l !== '') : [];
  const records = lines.map((l) => JSON.parse(l) as Record_);
  return {
    instances: records.flatMap((r) => (r.op === 'create' ? [r.instance] : [])),
    createAgain: records.filter((r) => r.op === 'create-again').length,
    deletes: records.filter((r) => r.op === 'delete').length,
    updates: records.flatMap((r) => (r.op === 'update' ? [[...r.images]] : [])),
  };
}
