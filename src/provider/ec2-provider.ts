// The EC2 provider: a pod's annotations and requests → selection → placement over the ranked
// offerings → an instance tagged with the pod's identity. Status comes from one tag-filtered
// DescribeInstances per poll for all of the node's instances. Deleting a pod terminates its instance.
import { selectOfferings, type Offering } from '../catalog/selection.js';
import { UnavailableOfferings } from '../catalog/unavailable.js';
import { describeHintErrors, parsePodHints, type PodHints } from '../domain/annotations.js';
import { PodRejectedError } from '../domain/errors.js';
import { launchToken, type Instance } from '../domain/instance.js';
import { defined } from '../domain/objects.js';
import type { InstanceTypeInfo } from '../domain/instance-type.js';
import { podKey, refOf, type Pod, type PodKey, type PodRef } from '../domain/pod.js';
import { podRequest, type PodRequest } from '../domain/pod-request.js';
import { canonical, type ReportedStatus } from '../domain/pod-status.js';
import type { BootImage, ImageSource, SpotPriceSource } from '../ports/catalog.js';
import type { Clock } from '../ports/clock.js';
import type { EventRecorder } from '../ports/kube.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import type { Logger } from '../observability/logger.js';
import { TAG, type Ec2Settings } from './ec2-settings.js';
import { containersOf, instanceStatus, type TrackedPod } from './instance-status.js';
import { describeOffering, place, type BaseSpec, type PlacementResult } from './placement.js';
import type { ProviderPod, RunnableProvider } from './provider.js';

export interface Ec2ProviderDeps {
  readonly launcher: InstanceLauncher;
  readonly images: ImageSource;
  readonly spot: SpotPriceSource;
  readonly catalog: { readonly types: ReadonlyMap<string, InstanceTypeInfo>; readonly onDemandUsdPerHour: Readonly<Record<string, number>> };
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: Ec2Settings;
}

interface Tracked extends TrackedPod { readonly ref: PodRef; readonly status: string }

export class Ec2Provider implements RunnableProvider {
  readonly #d: Ec2ProviderDeps;
  readonly #log: Logger;
  readonly #pods = new Map<string, Tracked>();
  readonly #unavailable: UnavailableOfferings;
  #notify: (key: PodKey) => void = () => undefined;
  /** Spot prices by "type/zone", with when each type was last read: one read serves a burst. */
  readonly #spot = new Map<string, number>();
  readonly #spotReadAt = new Map<string, number>();
  /** Resolved boot images by parameter or AMI, for an hour: a burst resolves each image once. */
  readonly #imageCache = new Map<string, { readonly at: number; readonly image: Promise<BootImage> }>();
  #markPolled: () => void = () => undefined;
  readonly #polled = new Promise<void>((r) => { this.#markPolled = r; });

  constructor(deps: Ec2ProviderDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'ec2-provider' });
    this.#unavailable = new UnavailableOfferings(deps.settings.unavailableTtlMs);
  }

  onStatusChange(notify: (key: PodKey) => void): void {
    this.#notify = notify;
  }

  #track(ref: PodRef, t: TrackedPod): void {
    const status = canonical(instanceStatus(t));
    const before = this.#pods.get(ref.uid);
    this.#pods.set(ref.uid, { ...t, ref, status });
    if (before?.status !== status) this.#notify(ref.key);
  }

  #hints(pod: Pod): PodHints {
    const s = this.#d.settings;
    const r = parsePodHints(pod.metadata.annotations ?? {}, { capacityOrder: s.defaultCapacityOrder, onInterruption: s.defaultOnInterruption });
    if (!r.ok) throw new PodRejectedError('InvalidAnnotation', describeHintErrors(r.error));
    return r.value;
  }

  async #rank(req: PodRequest, h: PodHints): Promise<readonly Offering[]> {
    const s = this.#d.settings;
    const names = h.instanceType !== undefined ? [h.instanceType] : [...this.#d.catalog.types.keys()];
    const now = this.#d.clock.now().getTime();
    if (h.capacityOrder.includes('spot')) await this.#refreshSpot(names, now);
    const spot = this.#spot;
    const sel = selectOfferings(req, h, {
      mode: s.selectionMode, types: this.#d.catalog.types, onDemandUsdPerHour: this.#d.catalog.onDemandUsdPerHour,
      spotUsdPerHour: (t, z) => spot.get(`${t}/${z}`), zones: s.subnets.map((x) => x.zone), allowedTypes: s.allowedTypes,
      templates: s.templates, isUnavailable: (k) => this.#unavailable.isUnavailable(k, now),
    });
    if (!sel.ok) throw new PodRejectedError(sel.reason, sel.message);
    return sel.ranked;
  }

  /** Reads spot prices for the types not read in the last five minutes. */
  async #refreshSpot(types: readonly string[], now: number): Promise<void> {
    const stale = types.filter((t) => now - (this.#spotReadAt.get(t) ?? -Infinity) > 300_000);
    if (stale.length === 0) return;
    const fresh = await this.#d.spot.spotPrices(stale);
    for (const t of stale) this.#spotReadAt.set(t, now);
    for (const [k, v] of fresh) this.#spot.set(k, v);
  }

  #image(wanted: string): Promise<BootImage> {
    const now = this.#d.clock.now().getTime();
    const hit = this.#imageCache.get(wanted);
    if (hit !== undefined && now - hit.at < 3_600_000) return hit.image;
    const image = this.#d.images.resolve(wanted);
    this.#imageCache.set(wanted, { at: now, image });
    image.catch(() => { this.#imageCache.delete(wanted); });
    return image;
  }

  async #baseSpec(pod: Pod, h: PodHints, first: Offering, req: PodRequest): Promise<BaseSpec> {
    const s = this.#d.settings;
    const kind = this.#d.catalog.types.get(first.type)?.accelerator?.kind ?? 'cpu';
    const wanted = h.ami ?? s.images[kind];
    if (wanted === '') throw new PodRejectedError('NoImage', `no image is configured for ${kind} instances (instances.images.${kind})`);
    const image = await this.#image(wanted);
    const { namespace, name, uid } = pod.metadata;
    return {
      imageId: image.imageId, rootDeviceName: image.rootDeviceName, count: 1,
      rootVolumeGiB: Math.max(s.rootVolumeGiB, Math.ceil(req.ephemeralStorageGiB) + 50),
      securityGroupIds: s.securityGroupIds, userData: s.userData, terminationProtection: h.terminationProtection, dryRun: s.dryRun,
      ...defined({
        instanceProfileArn: s.instanceProfileArn, maxSpotPrice: h.maxSpotPrice, capacityReservationId: h.capacityReservationId,
        capacityReservationPreference: h.capacityReservationPreference, capacityBlockId: h.capacityBlockId,
      }),
      tags: {
        ...s.tags, Name: `orca-${namespace}-${name}`.slice(0, 255), [TAG.cluster]: s.clusterId, [TAG.node]: s.nodeName,
        [TAG.podNamespace]: namespace, [TAG.podName]: name, [TAG.podUid]: uid, [TAG.budget]: h.budgetNamespace ?? namespace,
        ...(h.maxLifetimeSeconds === undefined ? {} : { [TAG.maxLifetime]: String(h.maxLifetimeSeconds) }),
      },
    };
  }

  #report(pod: Pod, r: PlacementResult): void {
    for (const a of r.attempts) {
      const ok = a.outcome === 'launched' || a.outcome === 'dry-run';
      this.#d.events.podEvent(pod, ok ? 'Normal' : 'Warning', ok ? 'InstanceLaunched' : 'InstanceUnavailable', a.message);
    }
  }

  async createPod(pod: Pod): Promise<void> {
    await this.#polled;
    const ref = refOf(pod);
    if (this.#pods.has(ref.uid)) return;
    const h = this.#hints(pod);
    const req = podRequest(pod);
    const ranked = await this.#rank(req, h);
    const r = await this.#launch(pod, h, req, ranked);
    this.#report(pod, r);
    if (!r.ok) {
      if (r.reason === 'NoCapacity' || r.reason === 'LaunchFailed') throw new Error(r.message);
      throw new PodRejectedError(r.reason, r.message);
    }
    if (this.#d.settings.dryRun) throw new PodRejectedError('DryRun', `dry run passed for ${describeOffering(r.offering)}; nothing was launched (dryRun is on)`);
    const instance = r.instances[0];
    if (instance === undefined) throw new Error('EC2 returned no instance');
    this.#log.info({ pod: ref.key, instanceId: instance.id, offering: describeOffering(r.offering) }, 'instance launched');
    this.#track(ref, { containers: containersOf(pod), instance, deleting: false });
  }

  /** Places the pod on the offerings that boot the same image as the best one. */
  async #launch(pod: Pod, h: PodHints, req: PodRequest, ranked: readonly Offering[]): Promise<PlacementResult> {
    const first = ranked[0];
    if (first === undefined) throw new PodRejectedError('NoInstanceType', 'no offering to try');
    const kindOf = (o: Offering): string => this.#d.catalog.types.get(o.type)?.accelerator?.kind ?? 'cpu';
    const base = await this.#baseSpec(pod, h, first, req);
    const s = this.#d.settings;
    return place(ranked.filter((o) => kindOf(o) === kindOf(first)), base, {
      launcher: this.#d.launcher, unavailable: this.#unavailable, now: () => this.#d.clock.now().getTime(),
      subnetFor: (z) => (z === '' ? s.subnets[0]?.subnetId : s.subnets.find((x) => x.zone === z)?.subnetId),
    }, (i) => launchToken(pod.metadata.uid, i));
  }

  updatePod(): Promise<void> {
    return Promise.reject(new PodRejectedError('UpdateNotSupported', 'a running burst instance cannot change its pod; delete and recreate the pod'));
  }

  async deletePod(ref: PodRef): Promise<void> {
    const t = this.#pods.get(ref.uid);
    if (t === undefined) return;
    if (!t.deleting) await this.#d.launcher.terminate([t.instance.id]);
    this.#track(ref, { ...t, deleting: true, instance: { ...t.instance, state: t.instance.state === 'terminated' ? 'terminated' : 'shutting-down' } });
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
    for (const i of seen) this.#observe(i);
    this.#markPolled();
    await this.#enforceLifetimes();
  }

  #observe(i: Instance): void {
    const uid = i.tags[TAG.podUid];
    if (uid === undefined || i.tags[TAG.cluster] !== this.#d.settings.clusterId) return;
    const known = this.#pods.get(uid);
    if (known === undefined) {
      const key = podKey(String(i.tags[TAG.podNamespace]), String(i.tags[TAG.podName]));
      this.#track({ key, uid }, { containers: [], instance: i, deleting: false });
      return;
    }
    if (known.instance.id === i.id) this.#track(known.ref, { ...known, instance: i });
  }

  /** Terminates instances whose pod has outlived its orca.research/max-lifetime. */
  async #enforceLifetimes(): Promise<void> {
    const now = this.#d.clock.now().getTime();
    for (const t of this.#pods.values()) {
      const limit = Number(t.instance.tags[TAG.maxLifetime]);
      const live = t.instance.state === 'pending' || t.instance.state === 'running';
      if (t.deleting || t.expired === true || !live || !(limit > 0) || Date.parse(t.instance.launchTime) + limit * 1000 > now) continue;
      await this.#d.launcher.terminate([t.instance.id]);
      const [namespace = '', name = ''] = t.ref.key.split('/');
      this.#d.events.podEvent({ metadata: { namespace, name, uid: t.ref.uid }, spec: { containers: [] } }, 'Warning', 'MaxLifetimeExceeded',
        `instance ${t.instance.id} terminated: the pod reached its orca.research/max-lifetime of ${limit}s`);
      this.#track(t.ref, { ...t, expired: true, instance: { ...t.instance, state: 'shutting-down' } });
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
  }
}
