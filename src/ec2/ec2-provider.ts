// The EC2 provider, the face of the Provider contract: a pod's annotations and requests → a launch
// plan → a batch of identical launches → an instance given to the pod (tags). Status comes from one
// tag-filtered DescribeInstances per poll for all of the node's instances (inventory.ts), acted on
// by sync.ts. Every piece of state lives in the pod table (pod-table.ts).
import { describeHintErrors, parsePodHints, type PodHints } from '../domain/annotations.js';
import { PodRejectedError, StreamRefusedError } from '../domain/errors.js';
import { isGone, isLive } from '../domain/instance.js';
import { refOf, type Pod, type PodKey, type PodRef } from '../domain/pod.js';
import { podRequest } from '../domain/pod-request.js';
import type { ReportedStatus } from '../domain/pod-status.js';
import type { AssignmentStore } from '../ports/assignments.js';
import type { BudgetGate } from '../ports/budget-gate.js';
import type { ImageSource, ReservationSource, SpotPriceHistory, SpotPriceSource } from '../ports/catalog.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigSource, EventRecorder } from '../ports/kube.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import type { SessionManager } from '../ports/sessions.js';
import type { InstanceSignals } from '../ports/signals.js';
import type { Logger } from '../observability/logger.js';
import type {
  ContainerIo, ExecCapable, ExecOutcome, ExecRequest, PortForwarder, ProviderPod, RunnableProvider, StatsCapable, UsageSamples,
} from '../provider/provider.js';
import { buildAssignment } from '../agent-protocol/assignment-builder.js';
import { AssignmentDelivery } from './assignment-delivery.js';
import { chargeReport } from './budget-report.js';
import { ContainerSessions, type PodPlace } from './container-sessions.js';
import { agentStatus, instanceStatus, shapeOf } from './instance-status.js';
import { Inventory } from './inventory.js';
import type { InstanceCatalog } from './launch/launch-plan.js';
import { Launches } from './launch/launches.js';
import { PriceBook } from './launch/price-book.js';
import { PodTable, type PodRecord } from './pod-table.js';
import { usageSamples } from './pod-usage.js';
import { timingsOf, type Ec2Settings, type Ec2Timings } from './settings.js';
import { SpotSettlement, type EndedSpot } from './spot-settlement.js';
import { InstanceSync, podLog } from './sync.js';
import { Tagger } from './tagger.js';
import { Terminations } from './terminations.js';

export interface Ec2ProviderDeps {
  readonly launcher: InstanceLauncher;
  readonly images: ImageSource;
  readonly spot: SpotPriceSource;
  /** Prices an ended spot instance's life from its pool's history for the budgets; absent, the charge followed poll by poll stands. */
  readonly spotHistory?: SpotPriceHistory;
  readonly reservations: ReservationSource;
  readonly catalog: InstanceCatalog;
  readonly events: EventRecorder;
  /** ConfigMaps and Secrets for the pod's env and volumes. */
  readonly config: ConfigSource;
  /** Where each instance's assignment waits for its agent. */
  readonly assignments: AssignmentStore;
  /** How ORCA tells an agent to stop its pod. */
  readonly signals: InstanceSignals;
  /** The pod objects bound to the node (the informer's cache): to take back a pod's spec after a restart. */
  readonly podLookup?: (key: PodKey) => Pod | undefined;
  /** Session Manager, for exec, attach and port-forward; with the exec helper's source (agent/orca-exec.py). */
  readonly sessions?: { readonly manager: SessionManager; readonly helperSource: string };
  /** The budgets every launch is decided by (and told about every instance after each poll); absent: none. */
  readonly budgets?: BudgetGate;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: Ec2Settings;
}

export class Ec2Provider implements RunnableProvider, StatsCapable, ExecCapable {
  readonly #d: Ec2ProviderDeps;
  readonly #t: Ec2Timings;
  readonly #log: Logger;
  readonly #table: PodTable;
  readonly #inventory: Inventory;
  readonly #prices: PriceBook;
  readonly #terminations: Terminations;
  readonly #delivery: AssignmentDelivery;
  readonly #tagger: Tagger;
  readonly #launches: Launches;
  readonly #sync: InstanceSync;
  readonly #streams: ExecCapable | undefined;
  readonly #spotLives: SpotSettlement | undefined;
  #serial: Promise<void> = Promise.resolve();
  #notify: (key: PodKey) => void = () => undefined;

  constructor(deps: Ec2ProviderDeps) {
    const s = deps.settings;
    const log = deps.log.child({ component: 'ec2-provider' });
    const t = timingsOf(s);
    const table = new PodTable((key) => { this.#notify(key); }, { missingPolls: t.missingPolls, visibleMs: t.instanceVisibleMs });
    const clock = deps.clock;
    this.#d = deps;
    this.#t = t;
    this.#log = log;
    this.#table = table;
    this.#inventory = new Inventory({ launcher: deps.launcher, clock, log, clusterId: s.clusterId, nodeName: s.nodeName, pollMs: s.pollMs });
    this.#prices = new PriceBook({ ...deps, onDemandUsdPerHour: deps.catalog.onDemandUsdPerHour, log, timings: t });
    this.#terminations = new Terminations({ table, launcher: deps.launcher, clock, log, windowMs: t.terminateWindowMs, maxBatch: t.terminateMax });
    this.#delivery = new AssignmentDelivery({ table, store: deps.assignments, config: deps.config, log, rebuildAfterMs: t.assignmentRebuildMs, ...(deps.podLookup === undefined ? {} : { podLookup: deps.podLookup }) });
    this.#tagger = new Tagger(deps.launcher, log);
    this.#launches = new Launches({ ...deps, table, prices: this.#prices, delivery: this.#delivery, tagger: this.#tagger, terminations: this.#terminations, log });
    this.#spotLives = deps.spotHistory === undefined ? undefined : new SpotSettlement({ history: deps.spotHistory, clock, log });
    this.#sync = new InstanceSync({ ...deps, table, launches: this.#launches, terminations: this.#terminations, delivery: this.#delivery, tagger: this.#tagger, log });
    this.#streams = deps.sessions === undefined ? undefined : new ContainerSessions({
      placeOf: (uid) => this.#placeOf(uid), sessions: deps.sessions.manager, helperSource: deps.sessions.helperSource, log,
    });
    // One listing at a time is acted on, in order; one that fails never stops the next.
    this.#inventory.onListing((l) => { this.#serial = this.#serial.catch(() => undefined).then(() => this.#afterListing(l)); return this.#serial; });
  }

  async #afterListing(l: Parameters<InstanceSync['apply']>[0]): Promise<void> {
    await this.#sync.apply(l);
    const budgets = this.#d.budgets;
    if (budgets === undefined) return;
    const c = this.#d.catalog;
    const lives = this.#spotLives;
    const rates = {
      types: c.types, onDemand: (t: string) => c.onDemandUsdPerHour[t], spot: (t: string, z: string) => this.#prices.spotPrice(t, z),
      reservedUsdPerHour: this.#d.settings.reservedUsdPerHour ?? 0, ...(lives === undefined ? {} : { spotLife: (i: EndedSpot) => lives.of(i) }),
    };
    const now = this.#d.clock.now().getTime();
    const report = chargeReport(this.#table, rates);
    lives?.retain(new Set(this.#table.instances.all().map((r) => r.observed.id)));
    budgets.observe(report, now);
    for (const d of budgets.toDrain()) await this.#drain(d.podUid, d.message, now);
  }

  /** Stops a running pod whose budget drains at its limit: gracefully when its agent runs it. */
  async #drain(uid: string, message: string, now: number): Promise<void> {
    const p = this.#table.pod(uid);
    const i = this.#table.instanceOf(uid)?.observed;
    if (p === undefined || i === undefined || !isLive(i) || p.deleting || p.final !== undefined || p.stopRequestedAt !== undefined) return;
    if (p.pod !== undefined) this.#d.events.podEvent(p.pod, 'Warning', 'BudgetExhausted', message);
    if (this.#graceful(p)) await this.#sync.requestStop(uid, i.id, now, 'BudgetExhausted');
    else {
      this.#table.requestStop(uid, now, 'BudgetExhausted');
      this.#sync.terminate(i.id, 'its budget drains at its limit');
    }
  }

  onStatusChange(notify: (key: PodKey) => void): void {
    this.#notify = notify;
  }

  /** The agent's report of stopped containers reaches ORCA within a poll; ORCA terminates by grace + stopSlackSeconds. */
  get stopSlackMs(): number {
    return this.#t.stopSlackSeconds * 1000 + 2 * this.#d.settings.pollMs;
  }

  /** Resolves once the node's instances were listed. */
  get ready(): Promise<void> {
    return this.#inventory.ready();
  }

  /** Empty once the node's instances were listed; else why the provider cannot act yet (readiness). */
  notReadyReasons(): readonly string[] {
    return this.#inventory.notReadyReasons();
  }

  /** The size of every per-pod and per-instance collection (tests; the tracked-pods metric). */
  memory(): Readonly<Record<string, number>> {
    return {
      pods: this.#table.size, instances: this.#table.instances.size, launchesWaiting: this.#launches.waiting,
      terminationsPending: this.#terminations.pending, tagWrites: this.#tagger.pending, budgetWaiting: this.#launches.budgetWaiting,
    };
  }

  /** Sends every waiting launch and termination now and waits for them (tests, shutdown). */
  async flush(): Promise<void> {
    await this.#launches.flush();
    await this.#terminations.flush();
  }

  #hints(pod: Pod): PodHints {
    const s = this.#d.settings;
    const r = parsePodHints(pod.metadata.annotations ?? {}, { capacityOrder: s.defaultCapacityOrder, onInterruption: s.defaultOnInterruption });
    if (!r.ok) throw new PodRejectedError('InvalidAnnotation', describeHintErrors(r.error));
    return r.value;
  }

  async createPod(pod: Pod, signal?: AbortSignal): Promise<void> {
    await this.#inventory.ready(signal);
    const ref = refOf(pod);
    const hints = this.#hints(pod);
    if (this.#table.pod(ref.uid) !== undefined) {
      this.#table.adopt(ref.uid, { ...shapeOf(pod), pod, hints, debug: hints.debug });
      return;
    }
    this.#launches.planner.check(pod, hints);
    const request = podRequest(pod);
    const text = await buildAssignment(pod, this.#d.config);
    const planned = await this.#launches.plan(pod, hints, request);
    if (this.#table.pod(ref.uid) !== undefined) return;
    this.#table.add(ref, { ...shapeOf(pod), pod, hints, debug: hints.debug, assignment: { text, delivered: false }, launch: { state: 'queued', message: '' } });
    this.#launches.queue({ pod, ref, hints, request, round: 0 }, planned);
    podLog(this.#log, { ref, debug: hints.debug }).debug({ offerings: planned.ok ? planned.plan.ranked.length : 0, capacityOrder: hints.capacityOrder }, 'pod queued for launch');
  }

  updatePod(): Promise<void> {
    return Promise.reject(new PodRejectedError('UpdateNotSupported', 'a running burst instance cannot change its pod; delete and recreate the pod'));
  }

  async deletePod(ref: PodRef): Promise<void> {
    const p = this.#table.pod(ref.uid);
    if (p === undefined) return;
    const i = this.#table.instanceOf(ref.uid)?.observed;
    podLog(this.#log, p).debug({ stage: p.stage, instanceId: i?.id }, 'deleting the pod');
    if (i === undefined) {
      this.#launches.withdraw(ref.uid);
      this.#table.markDeleting(ref.uid);
      return;
    }
    const graceful = this.#graceful(p);
    const again = p.deleting || p.stopRequestedAt !== undefined;
    this.#table.markDeleting(ref.uid);
    if (again || isGone(i)) return;
    // Once the agent runs the containers, it stops them (SIGTERM, then SIGKILL after the grace period).
    if (graceful) await this.#sync.requestStop(ref.uid, i.id, this.#d.clock.now().getTime());
    else this.#sync.terminate(i.id, 'its pod was deleted');
  }

  /** The agent runs the pod's containers: they can be stopped gracefully. */
  #graceful(p: PodRecord): boolean {
    const i = this.#table.instanceOf(p.ref.uid)?.observed;
    return i !== undefined && isLive(i) && p.final === undefined && agentStatus(this.#table.view(p)) !== undefined;
  }

  async getPodStatus(ref: PodRef, signal?: AbortSignal): Promise<ReportedStatus | undefined> {
    await this.#inventory.ready(signal);
    const p = this.#table.pod(ref.uid);
    return p === undefined ? undefined : instanceStatus(this.#table.view(p));
  }

  async listPods(signal?: AbortSignal): Promise<readonly ProviderPod[]> {
    await this.#inventory.ready(signal);
    return this.#table.pods().filter((p) => !p.deleting).map((p) => ({ ref: p.ref, status: instanceStatus(this.#table.view(p)) }));
  }

  /** What the measured pods use now (`kubectl top`): the agents' last reports, CPU counters carried on to now. */
  podStats(): Promise<UsageSamples> {
    const entries = this.#table.pods().map((p) => ({ ref: p.ref, startTime: this.#table.view(p).instance?.launchTime, usage: p.usage, ...(p.idle?.idleSince === undefined ? {} : { idleSince: p.idle.idleSince }) }));
    return Promise.resolve(usageSamples(entries, this.#table.forgottenCpuSeconds, this.#d.clock.now()));
  }

  exec(ref: PodRef, request: ExecRequest, io: ContainerIo, signal: AbortSignal): Promise<ExecOutcome> {
    return this.#sessionsOrRefuse().exec(ref, request, io, signal);
  }

  attach(ref: PodRef, request: ExecRequest, io: ContainerIo, signal: AbortSignal): Promise<ExecOutcome> {
    return this.#sessionsOrRefuse().attach(ref, request, io, signal);
  }

  portForwarder(ref: PodRef, signal: AbortSignal): Promise<PortForwarder> {
    return this.#sessionsOrRefuse().portForwarder(ref, signal);
  }

  #sessionsOrRefuse(): ExecCapable {
    if (this.#streams === undefined) throw new StreamRefusedError(500, 'this node is not set up for exec, attach and port-forward (no Session Manager)');
    return this.#streams;
  }

  /** The pod's live instance and its agent's last report, if it has one. */
  #placeOf(uid: string): PodPlace | undefined {
    const observed = this.#table.instanceOf(uid)?.observed;
    if (observed === undefined || !isLive(observed)) return undefined;
    return { instanceId: observed.id, containers: observed.agent?.containers ?? new Map() };
  }

  /** One listing of the node's instances (one DescribeInstances, paginated) and what follows from it. */
  async poll(signal?: AbortSignal): Promise<void> {
    await this.#inventory.refresh(signal);
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#inventory.run(signal), this.#prices.run(signal)]);
    await this.#launches.close();
    // Terminations already asked for are sent (bounded): an instance nobody needs must not keep running.
    const bound = new AbortController();
    await Promise.race([this.#terminations.flush(), this.#d.clock.sleep(this.#t.shutdownFlushMs, bound.signal).catch(() => undefined)]);
    bound.abort();
    await this.#terminations.close();
  }
}
