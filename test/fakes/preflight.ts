// Fakes of the start-up and doctor probes (ports/preflight.ts): an apiserver that allows every
// permission but those denied, and an AWS account with a region list, subnets, security groups,
// images and instance profiles, each able to fail on purpose.
import type { AwsDoctorProbe, DryRunLaunch, DryRunOutcome, KubeDoctorProbe, Permission, RegionInfo, SubnetInfo } from '../../src/ports/preflight.js';

const key = (p: Permission): string => `${p.verb} ${p.group}/${p.resource}${p.subresource === undefined ? '' : `/${p.subresource}`}${p.namespace === undefined ? '' : ` ${p.namespace}`}`;

export class FakeKubeProbe implements KubeDoctorProbe {
  readonly asked: Permission[] = [];
  /** Permissions answered "not allowed", as "verb group/resource[/sub][ namespace]". */
  readonly denied = new Set<string>();
  /** Thrown by every question when set. */
  error: Error | undefined;
  crd = true;
  /** Never answers: until the signal aborts (true), or at all (as a request stuck in a TLS handshake may). */
  hang: boolean | 'ignoring the signal' = false;

  async can(p: Permission, signal?: AbortSignal): Promise<boolean> {
    this.asked.push(p);
    if (this.hang === 'ignoring the signal') await new Promise(() => undefined);
    if (this.hang === true) await new Promise((_, reject) => signal?.addEventListener('abort', () => { reject(signal.reason as Error); }));
    if (this.error !== undefined) throw this.error;
    return !this.denied.has(key(p));
  }

  budgetCrdInstalled(): Promise<boolean> {
    return this.error === undefined ? Promise.resolve(this.crd) : Promise.reject(this.error);
  }
}

export class FakeAwsProbe implements AwsDoctorProbe {
  regionList: RegionInfo[] = [{ name: 'us-east-1', enabled: true }, { name: 'us-west-2', enabled: true }, { name: 'af-south-1', enabled: false }];
  subnetList: SubnetInfo[] = [{ id: 'subnet-0aaaaaaaaaaaaaaaa', zone: 'us-east-1a' }, { id: 'subnet-0bbbbbbbbbbbbbbbb', zone: 'us-east-1b' }];
  groups = ['sg-0aaaaaaaaaaaaaaaa'];
  images = new Map<string, string>([['/aws/service/cpu', 'ami-0cccccccccccccccc'], ['/aws/service/nvidia', 'ami-0dddddddddddddddd'], ['ami-0eeeeeeeeeeeeeeee', 'ami-0eeeeeeeeeeeeeeee']]);
  profiles = new Set(['orca-worker']);
  logGroupNames = ['/orca/test'];
  /** The answer of every DryRun launch. */
  dryRun: DryRunOutcome = { allowed: true };
  readonly launches: DryRunLaunch[] = [];
  /** Errors thrown by one method each, by method name. */
  readonly errors = new Map<keyof AwsDoctorProbe, Error>();
  readonly calls: string[] = [];

  #answer<T>(method: keyof AwsDoctorProbe, value: () => T): Promise<T> {
    this.calls.push(method);
    const e = this.errors.get(method);
    return e === undefined ? Promise.resolve(value()) : Promise.reject(e);
  }

  regions(): Promise<readonly RegionInfo[]> { return this.#answer('regions', () => this.regionList); }
  subnets(ids: readonly string[]): Promise<readonly SubnetInfo[]> { return this.#answer('subnets', () => this.subnetList.filter((s) => ids.includes(s.id))); }
  securityGroups(ids: readonly string[]): Promise<readonly string[]> { return this.#answer('securityGroups', () => this.groups.filter((g) => ids.includes(g))); }
  identity(): Promise<string> { return this.#answer('identity', () => 'arn:aws:iam::123456789012:user/orca'); }
  dryRunLaunch(l: DryRunLaunch): Promise<DryRunOutcome> { this.launches.push(l); return this.#answer('dryRunLaunch', () => this.dryRun); }
  parameterRoundTrip(): Promise<void> { return this.#answer('parameterRoundTrip', () => undefined); }
  logGroups(prefix: string): Promise<readonly string[]> { return this.#answer('logGroups', () => this.logGroupNames.filter((g) => g.startsWith(prefix))); }
  instanceProfileExists(name: string): Promise<boolean> { return this.#answer('instanceProfileExists', () => this.profiles.has(name)); }
  resolveImage(p: string): Promise<string> {
    return this.#answer('resolveImage', () => {
      const ami = this.images.get(p);
      if (ami === undefined) throw new Error(`${p} does not name an AMI`);
      return ami;
    });
  }
}

/** An AWS SDK-style service error: its name is AWS's code. */
export function awsError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
