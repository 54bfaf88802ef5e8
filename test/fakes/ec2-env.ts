// An EC2 provider wired to fakes (launcher, clock, Events), for the provider's unit tests.
import type { InstanceTypeInfo } from '../../src/domain/instance-type.js';
import type { Pod, PodKey } from '../../src/domain/pod.js';
import { createLogger } from '../../src/observability/logger.js';
import type { AssignmentStore } from '../../src/ports/assignments.js';
import type { CapacityReservationInfo } from '../../src/domain/instance.js';
import type { ImageSource, ReservationSource, SpotPriceSource } from '../../src/ports/catalog.js';
import type { ConfigSource } from '../../src/ports/kube.js';
import type { InstanceSignals } from '../../src/ports/signals.js';
import { Ec2Provider, type Ec2ProviderDeps } from '../../src/ec2/ec2-provider.js';
import type { Ec2Settings } from '../../src/ec2/settings.js';
import { FakeClock } from './clock.js';
import { FakePods } from './kube.js';
import { FakeLauncher } from './launcher.js';
import { aPod, refOf } from './builders.js';

export const p5: InstanceTypeInfo = {
  type: 'p5.48xlarge', vcpus: 192, memoryMiB: 2_097_152, architectures: ['x86_64'], efaInterfaces: 32, networkPerformance: '',
  accelerator: { kind: 'nvidia', model: 'H100', count: 8, memoryMiB: 81_920 },
};
export const settings: Ec2Settings = {
  clusterId: 'lab', nodeName: 'orca-aws', subnets: [{ zone: 'us-east-1a', subnetId: 'subnet-a' }, { zone: 'us-east-1b', subnetId: 'subnet-b' }],
  securityGroupIds: ['sg-1'], images: { nvidia: '/aws/service/deeplearning/gpu', neuron: '/aws/service/neuron', cpu: '/aws/service/al2023' },
  selectionMode: 'explicit', defaultCapacityOrder: ['on-demand'], defaultOnInterruption: 'fail', allowedTypes: [], templates: {},
  rootVolumeGiB: 200, userData: '#!/bin/sh\nexec orca-agent\n', dryRun: false, pollMs: 10_000, tags: { team: 'vision' },
  batchWindowMs: 1000, batchMax: 100, unassignedGraceMs: 600_000,
};
export const imagesSeen: string[] = [];
export const images: ImageSource = { resolve: (p) => { imagesSeen.push(p); return Promise.resolve({ imageId: 'ami-0abc', rootDeviceName: '/dev/sda1' }); } };
/** The account's capacity reservations the fake EC2 has (tests set them). */
export const reservationList: CapacityReservationInfo[] = [];
export const reservations: ReservationSource = { activeReservations: () => Promise.resolve([...reservationList]) };
export const spot: SpotPriceSource = { spotPrices: () => Promise.resolve(new Map([['p5.48xlarge/us-east-1a', 30], ['p5.48xlarge/us-east-1b', 31]])) };

const stops: AbortController[] = [];
/** Stops every provider env() started (call in afterEach). */
export function stopProviders(): void {
  for (const s of stops.splice(0)) s.abort();
}

/** ConfigMaps and Secrets the fake pods may reference. */
export const configData: { maps: Record<string, Record<string, string>>; secrets: Record<string, Record<string, string>> } = { maps: {}, secrets: {} };
export const configs: ConfigSource = {
  configMap: (_ns, name) => Promise.resolve(configData.maps[name]),
  secret: (_ns, name) => Promise.resolve(configData.secrets[name]),
};

/** An in-memory assignment store: what each instance was given. */
export class FakeAssignments implements AssignmentStore {
  readonly byInstance = new Map<string, string>();
  readonly removed: string[] = [];
  failing = false;
  put(id: string, text: string): Promise<void> {
    if (this.failing) return Promise.reject(new Error('ThrottlingException'));
    this.byInstance.set(id, text);
    return Promise.resolve();
  }
  remove(id: string): Promise<void> {
    this.byInstance.delete(id);
    this.removed.push(id);
    return Promise.resolve();
  }
}
export const assignments = new FakeAssignments();

/** Stop requests sent to agents, by instance id. */
export class FakeSignals implements InstanceSignals {
  readonly stopped: string[] = [];
  stop(id: string): Promise<void> {
    this.stopped.push(id);
    return Promise.resolve();
  }
}

export interface Ec2Env {
  readonly provider: Ec2Provider;
  readonly launcher: FakeLauncher;
  readonly events: FakePods;
  readonly notified: PodKey[];
  readonly clock: FakeClock;
  /** createPod, then sends the launch batch at once and waits for it. */
  readonly create: (p: Pod) => Promise<void>;
  /** Sends every waiting launch and termination now and waits for them. */
  readonly flush: () => Promise<void>;
}

export function env(over: Partial<Ec2Settings> = {}, launcher = new FakeLauncher(), clock = new FakeClock(), ports: Partial<Pick<Ec2ProviderDeps, 'spot' | 'spotHistory' | 'images' | 'assignments' | 'reservations' | 'signals' | 'podLookup' | 'log' | 'budgets'>> = {}): Ec2Env {
  const events = new FakePods();
  const notified: PodKey[] = [];
  const provider = new Ec2Provider({
    launcher, images, spot, reservations, config: configs, assignments, signals: new FakeSignals(), log: createLogger('silent'), ...ports, events, clock, settings: { ...settings, ...over },
    catalog: { types: new Map([['p5.48xlarge', p5]]), onDemandUsdPerHour: { 'p5.48xlarge': 55.04 } },
  });
  provider.onStatusChange((k) => notified.push(k));
  const stop = new AbortController();
  stops.push(stop);
  void provider.run(stop.signal);
  const flush = (): Promise<void> => provider.flush();
  const create = async (p: Pod): Promise<void> => {
    await provider.createPod(p);
    await flush();
  };
  return { provider, launcher, events, notified, clock, create, flush };
}

/** The builders' pod (test/builders.ts) with these annotations. */
export const pod = (annotations: Record<string, string>, uid = 'uid-1', name = 'train-0'): Pod => aPod({ annotations, uid, name });
export const ref = refOf();
export const p5Spot = { 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'spot,on-demand' };

