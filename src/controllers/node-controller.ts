// Registers the virtual node and keeps it alive: the Lease in kube-node-lease renewed every 10 s,
// the status posted on change and at least every minute. On shutdown it stops renewing and posts
// Ready=False, leaving the pods to the provider's policy.
import { desiredNode, mergeTaints, nodeConditions, nodeStatus, type NodeCondition, type NodeParams } from '../domain/node.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseApi, NodeApi } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';

export interface NodeControllerDeps {
  readonly nodes: NodeApi;
  readonly leases: LeaseApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly params: NodeParams;
  readonly leaseDurationSeconds?: number;
  readonly renewIntervalMs?: number;
  readonly statusIntervalMs?: number;
  /** Called after each API error, for metrics. */
  readonly onApiError?: (operation: string) => void;
}

export class NodeController {
  readonly #d: NodeControllerDeps;
  readonly #log: Logger;
  #uid = '';
  #conditions: readonly NodeCondition[] = [];
  #lastStatusAt = 0;
  #markRegistered: () => void = () => undefined;
  /** Resolves once the Node exists with ORCA's labels, taints and a Ready status. */
  readonly registered: Promise<void>;

  constructor(deps: NodeControllerDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'node', node: deps.params.name });
    this.registered = new Promise((resolveRegistered) => { this.#markRegistered = resolveRegistered; });
  }

  get isRegistered(): boolean {
    return this.#uid !== '';
  }

  async #register(): Promise<void> {
    const { nodes, params, clock } = this.#d;
    const now = clock.now().toISOString();
    const existing = await nodes.get(params.name);
    if (existing === undefined) {
      const node = desiredNode(params, now);
      this.#uid = await nodes.create(node);
      this.#conditions = node.status.conditions;
      this.#log.info({ uid: this.#uid }, 'node registered');
    } else {
      const desired = desiredNode(params, now);
      const node = { ...desired, spec: { taints: mergeTaints(existing.spec.taints, desired.spec.taints) } };
      await nodes.patchMeta(node);
      this.#conditions = nodeConditions(now, undefined, existing.status.conditions, this.#d.params.readyNote);
      await nodes.patchStatus(params.name, nodeStatus(params, this.#conditions));
      this.#uid = existing.uid;
      this.#log.info({ uid: this.#uid }, 'node re-registered');
    }
    this.#lastStatusAt = clock.now().getTime();
  }

  async #registerUntilDone(signal: AbortSignal): Promise<void> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.#register();
        return;
      } catch (err) {
        this.#d.onApiError?.('node-register');
        this.#log.warn({ err, attempt }, 'node registration failed; retrying');
        await this.#d.clock.sleep(Math.min(1000 * 2 ** attempt, 30_000), signal).catch(() => undefined);
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const { leases, nodes, params, clock } = this.#d;
    const now = clock.now();
    try {
      await leases.renew(params.name, this.#uid, this.#d.leaseDurationSeconds ?? 40, now);
    } catch (err) {
      this.#d.onApiError?.('lease-renew');
      this.#log.warn({ err }, 'lease renewal failed');
    }
    if (now.getTime() - this.#lastStatusAt < (this.#d.statusIntervalMs ?? 60_000)) return;
    try {
      this.#conditions = nodeConditions(now.toISOString(), undefined, this.#conditions, this.#d.params.readyNote);
      await nodes.patchStatus(params.name, nodeStatus(params, this.#conditions));
      this.#lastStatusAt = now.getTime();
    } catch (err) {
      this.#d.onApiError?.('node-status');
      this.#log.warn({ err }, 'node status update failed');
    }
  }

  async #markNotReady(): Promise<void> {
    const { nodes, params, clock } = this.#d;
    try {
      const conditions = nodeConditions(clock.now().toISOString(), 'orca is shutting down', this.#conditions);
      await nodes.patchStatus(params.name, nodeStatus(params, conditions));
      this.#log.info({}, 'node marked not ready');
    } catch (err) {
      this.#log.warn({ err }, 'could not mark the node not ready on shutdown');
    }
  }

  /** Registers the node, then heartbeats until `signal` aborts; then marks the node NotReady. */
  async run(signal: AbortSignal): Promise<void> {
    const stopping = (): boolean => signal.aborted;
    await this.#registerUntilDone(signal);
    if (stopping()) return;
    this.#markRegistered();
    const every = this.#d.renewIntervalMs ?? 10_000;
    await this.#heartbeat();
    while (!stopping()) {
      await this.#d.clock.sleep(every, signal).catch(() => undefined);
      if (!stopping()) await this.#heartbeat();
    }
    await this.#markNotReady();
  }
}
