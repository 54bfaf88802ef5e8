// Terminations, batched as launches are: every termination requested within a short window goes out
// in one TerminateInstances call (up to 1000 instances). When EC2 refuses some instances of a call
// (and so terminates none), the others are sent again without them — split in halves when EC2 did
// not name them — so one instance never keeps the others running. An instance launched with
// termination protection has it lifted first (ORCA launched it and decides when it ends). Other
// failures (throttling, the network) are logged; the poll asks again while EC2 still runs them.
import { TerminateRefusedError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import { Batcher } from './batcher.js';
import type { PodTable } from './pod-table.js';

export interface TerminationsDeps {
  /** Where ORCA's wish to terminate an instance is kept until EC2 says it is going. */
  readonly table: PodTable;
  readonly launcher: Pick<InstanceLauncher, 'terminate' | 'unprotect'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly windowMs: number;
  readonly maxBatch: number;
}

interface TerminationRequest {
  readonly id: string;
  readonly why: string;
  /** Launched with termination protection: lifted before the call. */
  readonly protected: boolean;
}

export class Terminations {
  readonly #d: TerminationsDeps;
  readonly #batcher: Batcher<TerminationRequest>;
  /** Ids waiting in the batch or in a call: asked only once at a time. */
  readonly #pending = new Set<string>();

  constructor(deps: TerminationsDeps) {
    this.#d = deps;
    this.#batcher = new Batcher<TerminationRequest>({
      clock: deps.clock, windowMs: deps.windowMs, maxSize: deps.maxBatch,
      send: (_key, items, signal) => this.#send(items, signal),
      onError: (err) => { deps.log.error({ err }, 'termination batch failed'); },
    });
  }

  /** Ids waiting or in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Terminates the instance (in the next batch), and again at every poll until EC2 says it is going. */
  request(id: string, why: string): void {
    this.#d.table.instances.requestTerminate(id, why, this.#d.clock.now().getTime());
    const r = this.#d.table.instances.get(id);
    if (r !== undefined) this.#enqueue({ id, why: r.terminate?.why ?? why, protected: r.observed.terminationProtection });
  }

  /** At every poll: asks again for every instance ORCA wants gone that EC2 still runs. */
  requestDue(): void {
    for (const r of this.#d.table.instances.dueTerminations()) this.#enqueue({ id: r.observed.id, why: r.terminate?.why ?? '', protected: r.observed.terminationProtection });
  }

  #enqueue(r: TerminationRequest): void {
    if (this.#pending.has(r.id)) return;
    this.#pending.add(r.id);
    this.#batcher.add('terminate', r);
  }

  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  close(): Promise<void> {
    this.#pending.clear();
    return this.#batcher.close();
  }

  async #send(items: readonly TerminationRequest[], signal: AbortSignal): Promise<void> {
    try {
      const ready = await this.#unprotect(items, signal);
      await this.#terminate(ready, signal);
    } finally {
      for (const r of items) this.#pending.delete(r.id);
    }
  }

  async #unprotect(items: readonly TerminationRequest[], signal: AbortSignal): Promise<TerminationRequest[]> {
    const ready: TerminationRequest[] = [];
    for (const r of items) {
      if (!r.protected) { ready.push(r); continue; }
      try {
        await this.#d.launcher.unprotect(r.id, signal);
        ready.push(r);
      } catch (err) {
        this.#d.log.warn({ err, instanceId: r.id }, 'could not lift the termination protection; trying again at the next poll');
      }
    }
    return ready;
  }

  /** One call for all; what EC2 refuses is handled by #refused, once. */
  async #terminate(items: readonly TerminationRequest[], signal: AbortSignal, again = true): Promise<void> {
    if (items.length === 0 || signal.aborted) return;
    try {
      await this.#d.launcher.terminate(items.map((r) => r.id), signal);
      this.#d.table.terminated(items.map((r) => r.id));
      for (const r of items) this.#d.log.info({ instanceId: r.id, why: r.why }, 'instance terminated');
    } catch (err) {
      if (again && err instanceof TerminateRefusedError) await this.#refused(items, err, signal);
      else this.#d.log.warn({ err, instances: items.length, first: items[0]?.id }, 'could not terminate the instances; trying again at the next poll');
    }
  }

  /**
   * Protected instances EC2 named get their protection lifted and go again with the others; refused
   * ones are left for the next poll. When EC2 named none, the call is split in halves.
   */
  async #refused(items: readonly TerminationRequest[], err: TerminateRefusedError, signal: AbortSignal): Promise<void> {
    const named = items.filter((r) => err.instanceIds.includes(r.id));
    if (named.length === 0 && items.length > 1) {
      const half = Math.ceil(items.length / 2);
      await this.#terminate(items.slice(0, half), signal);
      await this.#terminate(items.slice(half), signal);
      return;
    }
    const blamed = named.length === 0 ? items : named;
    if (err.reason === 'refused') this.#d.log.warn({ err, instances: blamed.map((r) => r.id) }, 'EC2 refused to terminate the instances; trying again at the next poll');
    const lifted = err.reason === 'protected' ? new Set((await this.#unprotect(blamed.map((r) => ({ ...r, protected: true })), signal)).map((r) => r.id)) : new Set<string>();
    await this.#terminate(items.filter((r) => !blamed.includes(r) || lifted.has(r.id)), signal, false);
  }
}
