// The EC2 provider: a pod's annotations and requests → a launch plan → a batch of identical launches
// → an instance given to the pod (tags). Status comes from one tag-filtered DescribeInstances per
// poll for all of the node's instances. Deleting a pod terminates its instance.
import { UnavailableOfferings } from '../catalog/unavailable.js';
import { describeHintErrors, parsePodHints, type PodHints } from '../domain/annotations.js';
import { PodRejectedError } from '../domain/errors.js';
import type { Instance } from '../domain/instance.js';
import { omit } from '../domain/objects.js';
import type { InstanceTypeInfo } from '../domain/instance-type.js';
import { podKey, refOf, type Pod, type PodKey, type PodRef } from '../domain/pod.js';
import { podRequest } from '../domain/pod-request.js';
import { canonical, type ReportedStatus } from '../domain/pod-status.js';
import type { ImageSource, ReservationSource, SpotPriceSource } from '../ports/catalog.js';
import type { Clock } from '../ports/clock.js';
import type { AssignmentStore } from '../ports/assignments.js';
import type { ConfigSource, EventRecorder } from '../ports/kube.js';
import type { InstanceSignals } from '../ports/signals.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import type { Logger } from '../observability/logger.js';
import { buildAssignment } from './assignment-builder.js';
import { AssignmentDelivery } from './assignment-delivery.js';
import { sendBatch, type BatchLaunchDeps, type LaunchItem } from './batch-launch.js';
import { TAG, type Ec2Settings } from './ec2-settings.js';
import { decide, stopSlackSeconds, type Decision } from './agent-decisions.js';
import { agentStatus, instanceStatus, shapeOf, type LaunchState, type TrackedPod } from './instance-status.js';
import { LaunchBatcher } from './launch-batcher.js';
import { LaunchPlanner, type LaunchPlan } from './launch-plan.js';
import { LaunchRetries } from './launch-retries.js';
import type { ProviderPod, RunnableProvider } from './provider.js';

export interface Ec2ProviderDeps {
  readonly launcher: InstanceLauncher;
  readonly images: ImageSource;
  readonly spot: SpotPriceSource;
  readonly reservations: ReservationSource;
  readonly catalog: { readonly types: ReadonlyMap<string, InstanceTypeInfo>; readonly onDemandUsdPerHour: Readonly<Record<string, number>> };
  readonly events: EventRecorder;
  /** ConfigMaps and Secrets for the pod's env and volumes. */
  readonly config: ConfigSource;
  /** Where each instance's assignment waits for its agent. */
  readonly assignments: AssignmentStore;
  /** How ORCA tells an agent to stop its pod. */
  readonly signals: InstanceSignals;
  /** The pod objects bound to the node (the informer's cache): to rebuild an assignment after a restart. */
  readonly podLookup?: (key: PodKey) => Pod | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: Ec2Settings;
}

interface Tracked extends TrackedPod { readonly ref: PodRef; readonly status: string }


/** An instance that never got a pod (its launch was cut off before tagging) is terminated after this. */
export const unassignedGraceMs = 10 * 60_000;
const live = (i: Instance): boolean => i.state === 'pending' || i.state === 'running';

export class Ec2Provider implements RunnableProvider {
  readonly #d: Ec2ProviderDeps;
  readonly #log: Logger;
  readonly #pods = new Map<string, Tracked>();
  /** Pod UID by instance id, for instances this process gave a pod (their tags may lag). */
  readonly #byInstance = new Map<string, string>();
  /** Instances a pod was relaunched from: never its instance again. */
  readonly #retired = new Set<string>();
  /** Relaunches per pod UID. */
  readonly #generations = new Map<string, number>();
  /** Instances this process launched and has not yet given a pod: never taken over or collected. */
  readonly #launched = new Set<string>();
  /** The pods this process was given, by UID (to relaunch one after a spot interruption). */
  readonly #podObjects = new Map<string, Pod>();
  readonly #assignments: AssignmentDelivery;
  /** Instances whose pod tags are being written. */
  readonly #tagging = new Set<string>();
  /** Instances with no pod, from the last poll. */
  #idle = new Map<string, Instance>();
  readonly #unavailable: UnavailableOfferings;
  readonly #planner: LaunchPlanner;
  readonly #batcher: LaunchBatcher<LaunchItem>;
  readonly #retries: LaunchRetries;
  readonly #stop = new AbortController();
  #notify: (key: PodKey) => void = () => undefined;
  #markPolled: () => void = () => undefined;
  readonly #polled = new Promise<void>((r) => { this.#markPolled = r; });

  constructor(deps: Ec2ProviderDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'ec2-provider' });
    this.#unavailable = new UnavailableOfferings(deps.settings.unavailableTtlMs);
    this.#planner = new LaunchPlanner({ ...deps, unavailable: this.#unavailable });
    this.#batcher = new LaunchBatcher<LaunchItem>({
      clock: deps.clock, windowMs: deps.settings.batchWindowMs, maxSize: deps.settings.batchMax,
      send: (_key, items) => sendBatch(items, this.#batchDeps()),
      onError: (err) => { this.#log.error({ err }, 'launch batch failed'); },
    });
    this.#assignments = new AssignmentDelivery({
      store: deps.assignments, config: deps.config, log: this.#log, ...(deps.podLookup === undefined ? {} : { podLookup: deps.podLookup }),
      adopt: (ref, pod) => { this.#podObjects.set(ref.uid, pod); const t = this.#pods.get(ref.uid); if (t !== undefined) this.#track(ref, { ...t, ...shapeOf(pod) }); },
    });
    this.#retries = new LaunchRetries({
      clock: deps.clock, events: deps.events, planner: this.#planner, batcher: this.#batcher, stop: this.#stop.signal,
      wanted: (ref) => this.#wanted(ref), setLaunch: (ref, l) => { this.#setLaunch(ref, l); },
    });
  }

  onStatusChange(notify: (key: PodKey) => void): void {
    this.#notify = notify;
  }

  /** The agent's report of stopped containers reaches ORCA within a poll; ORCA terminates by grace + stopSlackSeconds. */
  get stopSlackMs(): number {
    return stopSlackSeconds * 1000 + 2 * this.#d.settings.pollMs;
  }

  /** Sends every waiting launch now and waits for all launches in flight (tests, shutdown). */
  flushLaunches(): Promise<void> {
    return this.#batcher.flush();
  }

  #track(ref: PodRef, t: TrackedPod): void {
    const status = canonical(instanceStatus(t));
    const before = this.#pods.get(ref.uid);
    this.#pods.set(ref.uid, { ...t, ref, status });
    if (before?.status !== status) this.#notify(ref.key);
  }

  #setLaunch(ref: PodRef, launch: LaunchState): void {
    const t = this.#pods.get(ref.uid);
    if (t !== undefined) this.#track(ref, { ...t, launch });
  }

  #hints(pod: Pod): PodHints {
    const s = this.#d.settings;
    const r = parsePodHints(pod.metadata.annotations ?? {}, { capacityOrder: s.defaultCapacityOrder, onInterruption: s.defaultOnInterruption });
    if (!r.ok) throw new PodRejectedError('InvalidAnnotation', describeHintErrors(r.error));
    return r.value;
  }

  async createPod(pod: Pod): Promise<void> {
    await this.#polled;
    const ref = refOf(pod);
    if (this.#pods.has(ref.uid)) return;
    const hints = this.#hints(pod);
    const request = podRequest(pod);
    const assignment = await buildAssignment(pod, this.#d.config);
    const planned = await this.#planner.plan(pod, hints, request);
    this.#assignments.prepare(ref.uid, assignment);
    this.#podObjects.set(ref.uid, pod);
    this.#track(ref, { ...shapeOf(pod), deleting: false, launch: { state: 'queued', message: '' } });
    this.#retries.queue({ pod, ref, hints, request, round: 0 }, planned);
  }

  #wanted(ref: PodRef): boolean {
    const t = this.#pods.get(ref.uid);
    return t !== undefined && !t.deleting && t.instance === undefined && t.launch?.state !== 'failed';
  }

  #batchDeps(): BatchLaunchDeps {
    const s = this.#d.settings;
    return {
      launcher: this.#d.launcher, unavailable: this.#unavailable, events: this.#d.events, now: () => this.#d.clock.now().getTime(),
      subnetFor: (z) => (z === '' ? s.subnets[0]?.subnetId : s.subnets.find((x) => x.zone === z)?.subnetId),
      wanted: (item) => this.#wanted(item.ref),
      launched: (instances) => { for (const i of instances) this.#launched.add(i.id); },
      claimIdle: (plan, n) => this.#claimIdle(plan, n),
      assign: (item, instance) => { this.#assign(item, instance); },
      tagPod: (item, instance) => this.#tagPod(instance.id, item.plan.podTags, item.ref.key),
      failed: (item, reason, message) => { this.#retries.failed(item, reason, message); },
    };
  }

  #claimIdle(plan: LaunchPlan, n: number): readonly Instance[] {
    const offered = (i: Instance): boolean => plan.ranked.some((o) => o.type === i.type && (o.zone === '*' || o.zone === i.zone) && capacityOf(i) === (o.capacity === 'spot' ? 'spot' : 'on-demand'));
    const fits = [...this.#idle.values()]
      .filter((i) => live(i) && !this.#launched.has(i.id) && !this.#byInstance.has(i.id) && i.tags[TAG.launchKey] === plan.launchKey && offered(i)).slice(0, n);
    for (const i of fits) this.#idle.delete(i.id);
    return fits;
  }

  #assign(item: LaunchItem, instance: Instance): void {
    this.#launched.delete(instance.id);
    this.#byInstance.set(instance.id, item.ref.uid);
    const t = this.#pods.get(item.ref.uid);
    if (t === undefined || t.deleting) {
      void this.#terminate(instance.id, 'its pod was deleted while it launched');
      if (t !== undefined) this.#track(item.ref, { ...t, instance: { ...instance, state: 'shutting-down' } });
      return;
    }
    const tags = { ...instance.tags, ...item.plan.podTags };
    this.#log.info({ pod: item.ref.key, instanceId: instance.id, type: instance.type, zone: instance.zone }, 'instance launched');
    this.#track(item.ref, { ...omit(t, 'launch'), deleting: false, instance: { ...instance, tags } });
    void this.#assignments.deliver(item.ref.uid, instance.id);
  }



  async #tagPod(id: string, tags: Readonly<Record<string, string>>, key: PodKey): Promise<void> {
    if (this.#tagging.has(id)) return;
    this.#tagging.add(id);
    try {
      await this.#d.launcher.tag([id], tags);
    } catch (err) {
      this.#log.warn({ err, pod: key, instanceId: id }, 'could not tag the instance with its pod; trying again at the next poll');
    } finally {
      this.#tagging.delete(id);
    }
  }

  async #terminate(id: string, why: string): Promise<void> {
    try {
      await this.#d.launcher.terminate([id]);
      this.#log.info({ instanceId: id, why }, 'instance terminated');
    } catch (err) {
      this.#log.warn({ err, instanceId: id, why }, 'could not terminate the instance; trying again later');
    }
  }

  updatePod(): Promise<void> {
    return Promise.reject(new PodRejectedError('UpdateNotSupported', 'a running burst instance cannot change its pod; delete and recreate the pod'));
  }

  async deletePod(ref: PodRef): Promise<void> {
    const t = this.#pods.get(ref.uid);
    if (t === undefined) return;
    const i = t.instance;
    if (i === undefined) {
      this.#assignments.forget(ref.uid);
      this.#track(ref, { ...t, deleting: true });
      return;
    }
    if (!t.deleting && live(i) && agentStatus(t) !== undefined) {
      await this.#requestStop(i.id);
      this.#track(ref, { ...t, deleting: true, stopRequestedAt: this.#d.clock.now().getTime() });
      return;
    }
    if (!t.deleting) await this.#d.launcher.terminate([i.id]);
    void this.#assignments.withdraw(ref.uid, i.id);
    this.#track(ref, { ...t, deleting: true, instance: { ...i, state: i.state === 'terminated' ? 'terminated' : 'shutting-down' } });
  }

  async getPodStatus(ref: PodRef): Promise<ReportedStatus | undefined> {
    await this.#polled;
    const t = this.#pods.get(ref.uid);
    return t === undefined ? undefined : instanceStatus(t);
  }

  async listPods(): Promise<readonly ProviderPod[]> {
    await this.#polled;
    return [...this.#pods.values()].filter((t) => !t.deleting).map((t) => ({ ref: t.ref, status: instanceStatus(t) }));
  }

  /** One DescribeInstances (paginated, 1000 per page) for all of this node's instances. */
  async poll(): Promise<void> {
    const s = this.#d.settings;
    const seen = await this.#d.launcher.listTagged(TAG.node, s.nodeName);
    const idle = new Map<string, Instance>();
    for (const i of seen) {
      if (i.tags[TAG.cluster] !== s.clusterId) continue;
      if (!this.#observe(i) && live(i)) idle.set(i.id, i);
    }
    this.#idle = idle;
    this.#markPolled();
    await this.#assignments.catchUp([...this.#pods.values()], this.#d.clock.now().getTime());
    await this.#collectUnassigned();
    await this.#enforceLifetimes();
    await this.#followAgents();
  }

  /** Acts on what the agents reported (agent-decisions.ts). */
  async #followAgents(): Promise<void> {
    const now = this.#d.clock.now().getTime();
    for (const t of [...this.#pods.values()]) {
      const mode = t.instance?.tags[TAG.onInterruption] === 'relaunch' ? 'relaunch' : this.#d.settings.defaultOnInterruption;
      for (const d of decide(t, mode, now)) await this.#apply(t.ref, d);
    }
  }

  async #apply(ref: PodRef, d: Decision): Promise<void> {
    const t = this.#pods.get(ref.uid);
    const id = t?.instance?.id;
    if (t === undefined || id === undefined) return;
    const pod = this.#podFor(ref);
    const now = this.#d.clock.now().getTime();
    const actions: { readonly [K in Decision['kind']]: (x: Extract<Decision, { kind: K }>) => Promise<void> | void } = {
      final: (x) => { this.#track(ref, { ...t, final: x.status }); },
      noticed: (x) => { this.#track(ref, { ...t, noticed: x.notice }); },
      event: (x) => { this.#d.events.podEvent(pod, 'Warning', x.reason, x.message); },
      stop: async () => { await this.#requestStop(id); this.#track(ref, { ...t, stopRequestedAt: now }); },
      terminate: async (x) => {
        await this.#terminate(id, x.why);
        void this.#assignments.withdraw(ref.uid, id);
        this.#track(ref, { ...t, instance: { ...(t.instance as Instance), state: 'shutting-down' } });
      },
      relaunch: () => (this.#podObjects.has(ref.uid) ? this.#relaunch(t, pod) : this.#apply(ref, { kind: 'stop' })),
    };
    await (actions[d.kind] as (x: Decision) => Promise<void> | void)(d);
  }

  /** The pod object for Events: the one this process was given, else its identity from the tags. */
  #podFor(ref: PodRef): Pod {
    const [namespace = '', name = ''] = ref.key.split('/');
    return this.#podObjects.get(ref.uid) ?? { metadata: { namespace, name, uid: ref.uid }, spec: { containers: [] } };
  }

  /** Asks the agent to stop the containers: SIGTERM, then SIGKILL after the grace period. */
  async #requestStop(id: string): Promise<void> {
    try {
      await this.#d.signals.stop(id);
    } catch (err) {
      this.#log.warn({ err, instanceId: id }, 'could not ask the agent to stop; the instance is terminated after the grace period');
    }
  }

  /** A spot-interrupted pod starts again on a new instance (same pod, new ClientTokens). */
  async #relaunch(t: Tracked, pod: Pod): Promise<void> {
    const old = t.instance?.id;
    if (old !== undefined) {
      await this.#terminate(old, 'spot interruption; the pod is relaunched');
      void this.#assignments.withdraw(t.ref.uid, old);
      this.#byInstance.delete(old);
      this.#retired.add(old);
    }
    const generation = (this.#generations.get(t.ref.uid) ?? 0) + 1;
    this.#generations.set(t.ref.uid, generation);
    this.#track(t.ref, { ...omit(t, 'instance', 'noticed'), launch: { state: 'queued', message: 'relaunching after a spot interruption' } });
    try {
      const hints = this.#hints(pod);
      const request = podRequest(pod);
      this.#assignments.prepare(t.ref.uid, await buildAssignment(pod, this.#d.config));
      this.#retries.queue({ pod, ref: t.ref, hints, request, round: 0, generation }, await this.#planner.plan(pod, hints, request));
    } catch (err) {
      this.#retries.giveUp({ pod, ref: t.ref, hints: this.#hints(pod), request: podRequest(pod), round: 0 }, 'RelaunchFailed', err instanceof Error ? err.message : String(err));
    }
  }

  /** Follows an instance that has a pod; false when it has none. */
  #observe(i: Instance): boolean {
    const uid = this.#byInstance.get(i.id) ?? i.tags[TAG.podUid];
    if (uid === undefined) return false;
    const known = this.#pods.get(uid);
    if (known === undefined) {
      const key = podKey(String(i.tags[TAG.podNamespace]), String(i.tags[TAG.podName]));
      this.#track({ key, uid }, { containers: [], instance: i, deleting: false });
    } else if (known.instance === undefined) {
      // A pod waiting for an instance takes a live one that carries its tags (launched before a
      // restart), never the one it was just relaunched from.
      if (!live(i) || this.#retired.has(i.id)) return true;
      this.#byInstance.set(i.id, uid);
      this.#track(known.ref, { ...known, instance: i });
    } else if (known.instance.id === i.id) {
      this.#track(known.ref, { ...known, instance: { ...i, tags: { ...known.instance.tags, ...i.tags } } });
      if (i.tags[TAG.podUid] === undefined && live(i)) void this.#tagPod(i.id, podTagsOf(known.instance), known.ref.key);
    }
    return true;
  }

  /** Terminates instances that never got a pod, once they are older than unassignedGraceMs. */
  async #collectUnassigned(): Promise<void> {
    const now = this.#d.clock.now().getTime();
    for (const i of this.#idle.values()) {
      if (this.#launched.has(i.id) || Date.parse(i.launchTime) + unassignedGraceMs > now) continue;
      this.#idle.delete(i.id);
      await this.#terminate(i.id, `no pod was given this instance within ${unassignedGraceMs / 60_000} minutes of its launch`);
    }
  }

  /** Terminates instances whose pod has outlived its orca.research/max-lifetime. */
  async #enforceLifetimes(): Promise<void> {
    const now = this.#d.clock.now().getTime();
    for (const t of this.#pods.values()) {
      const i = t.instance;
      if (i === undefined) continue;
      const limit = Number(i.tags[TAG.maxLifetime]);
      if (t.deleting || t.expired === true || !live(i) || !(limit > 0) || Date.parse(i.launchTime) + limit * 1000 > now) continue;
      await this.#d.launcher.terminate([i.id]);
      this.#d.events.podEvent(this.#podFor(t.ref), 'Warning', 'MaxLifetimeExceeded',
        `instance ${i.id} terminated: the pod reached its orca.research/max-lifetime of ${limit}s`);
      this.#track(t.ref, { ...t, expired: true, instance: { ...i, state: 'shutting-down' } });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.poll();
      } catch (err) {
        this.#log.warn({ err }, 'instance poll failed');
      }
      await this.#d.clock.sleep(this.#d.settings.pollMs, signal).catch(() => undefined);
    }
    this.#stop.abort();
    await this.#batcher.close();
  }
}

const capacityOf = (i: Instance): 'spot' | 'on-demand' => (i.lifecycle === 'spot' ? 'spot' : 'on-demand');

function podTagsOf(i: Instance): Record<string, string> {
  const keep = ['Name', TAG.podName, TAG.podUid];
  return Object.fromEntries(Object.entries(i.tags).filter(([k]) => keep.includes(k)));
}
