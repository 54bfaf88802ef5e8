// The instance emulator (a test component, never shipped): makes moto's EC2 instances of one
// cluster behave as if they booted. Every second it lists the cluster's pending and running
// instances (tag orca.research/cluster); each new one is booted once — its user data read back
// from moto (DescribeInstanceAttribute) and run by `sh` with its own IMDS and docker — and each one
// gone from the list (terminated) is shut down: agent and containers killed. SSM Run Commands sent
// to an instance (ORCA's stop request) run there once, in the agent's environment. Tests inject spot
// notices and rebalance recommendations, kill containers, and read the agent's log and the docker
// command lines it ran. Everything listens on loopback; stop() leaves no process behind.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeInstanceAttributeCommand, EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { EmulatedInstance, type AgentContext, type AwsAccess } from './instance.js';

export interface EmulatorOptions {
  /** moto's endpoint. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Instances tagged orca.research/cluster=<clusterId> are emulated. */
  readonly clusterId: string;
  /** Each instance gets <workDir>/<instance-id>/. */
  readonly workDir: string;
  /** The AWS CLI v1 the agent calls as `aws`. */
  readonly awsBin: string;
  readonly pollMs?: number;
  /** Instances booted at most (default 20): a test that launches more is refused, not a machine full of agents. */
  readonly maxInstances?: number;
}

/**
 * moto adds every instance of the region to a command sent without Targets (it reads the missing
 * Targets as "no filter"), so ListCommands cannot tell which instance a command was sent to. ORCA
 * names its instance in the command's comment; a command naming another instance is not run here.
 */
function meantFor(comment: string | undefined, id: string): boolean {
  const named = /\bi-[0-9a-f]+\b/.exec(comment ?? '')?.[0];
  return named === undefined || named === id;
}

export class InstanceEmulator {
  readonly #o: EmulatorOptions;
  readonly #aws: AwsAccess;
  readonly #instances = new Map<string, EmulatedInstance>();
  readonly #gone = new Set<string>();
  readonly #commandsRun = new Set<string>();
  /** Problems met while polling or booting (the emulator never throws from its loop). */
  readonly errors: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(o: EmulatorOptions) {
    this.#o = o;
    const client = { endpoint: o.endpoint, region: o.region, credentials: o.credentials, maxAttempts: 2 };
    this.#aws = {
      endpoint: o.endpoint, region: o.region, credentials: o.credentials, awsBin: o.awsBin,
      ec2: new EC2Client(client), logs: new CloudWatchLogsClient(client), ssm: new SSMClient(client),
    };
    mkdirSync(o.workDir, { recursive: true });
  }

  static async start(o: EmulatorOptions): Promise<InstanceEmulator> {
    const e = new InstanceEmulator(o);
    e.#polling = e.#poll();
    await e.#polling;
    e.#schedule();
    return e;
  }

  /** Ids of the instances booted so far (terminated ones included). */
  get instanceIds(): readonly string[] {
    return [...this.#instances.keys()];
  }

  /** Whether `instanceId` is booted and not yet shut down (after its termination, or stop()). */
  isRunning(instanceId: string): boolean {
    return this.#instances.has(instanceId) && !this.#gone.has(instanceId);
  }

  /** A running instance's agent environment and directory, for sessions run on it; undefined unless isRunning. */
  agentContext(instanceId: string): AgentContext | undefined {
    return this.isRunning(instanceId) ? this.#instances.get(instanceId)?.agentContext : undefined;
  }

  injectSpotNotice(instanceId: string, action: 'terminate' | 'stop' | 'hibernate' = 'terminate'): void {
    this.#get(instanceId).imds.injectSpotNotice(action);
  }

  injectRebalance(instanceId: string): void {
    this.#get(instanceId).imds.injectRebalance();
  }

  /** `docker kill` on the current run of pod container `container` (the agent names runs orca-<container>-<run>); resolves once it has exited. */
  async killContainer(instanceId: string, container: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const { docker } = this.#get(instanceId);
    const runs = docker.names.map((n) => new RegExp(`^orca-${container}-(\\d+)$`).exec(n)).filter((m) => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]));
    const current = runs[0] === undefined ? undefined : docker.container(runs[0][0]);
    if (current === undefined) throw new Error(`instance ${instanceId} has no run of container ${container}`);
    current.signal(signal);
    await current.exited();
  }

  /** The agent's output so far (its log lines go to stderr). */
  agentLog(instanceId: string): string {
    return this.#get(instanceId).log;
  }

  /** The agent's exit code: undefined while it runs, null when it was killed. */
  agentExitCode(instanceId: string): number | null | undefined {
    return this.#get(instanceId).agentExitCode;
  }

  /** Every docker command line the agent ran on the instance, without the `docker`. */
  dockerCalls(instanceId: string): readonly (readonly string[])[] {
    return this.#get(instanceId).docker.calls;
  }

  /** Stops polling and shuts every instance down: no agent or container process is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
    for (const id of this.#instances.keys()) this.#gone.add(id);
    await Promise.all([...this.#instances.values()].map((i) => i.shutdown()));
    this.#aws.ec2.destroy();
    this.#aws.logs.destroy();
    this.#aws.ssm.destroy();
  }

  #get(instanceId: string): EmulatedInstance {
    const i = this.#instances.get(instanceId);
    if (i === undefined) throw new Error(`instance ${instanceId} has not been booted by the emulator (booted: ${this.instanceIds.join(', ') || 'none'})`);
    return i;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#polling = this.#poll().finally(() => { this.#schedule(); });
    }, this.#o.pollMs ?? 1000);
  }

  async #poll(): Promise<void> {
    let types: Map<string, string>;
    try {
      types = await this.#liveInstances();
    } catch (e) {
      this.#note('DescribeInstances', e);
      return;
    }
    const live = new Set(types.keys());
    for (const [id, type] of types) {
      if (!this.#instances.has(id) && !this.#stopped) await this.#boot(id, type);
    }
    await this.#runCommands(live);
    for (const [id, instance] of this.#instances) {
      if (live.has(id) || this.#gone.has(id)) continue;
      await instance.shutdown();
      this.#gone.add(id);
    }
  }

  /** SSM Run Commands sent to live instances since the last poll run there, once each (as the SSM agent would). */
  async #runCommands(live: ReadonlySet<string>): Promise<void> {
    for (const [id, instance] of this.#instances) {
      if (!live.has(id) || this.#gone.has(id)) continue;
      const commands = await this.#aws.ssm.send(new ListCommandsCommand({ InstanceId: id })).then((o) => o.Commands ?? [], (e: unknown) => {
        this.#note(`ListCommands ${id}`, e);
        return [];
      });
      for (const c of commands) {
        const key = `${String(c.CommandId)}/${id}`;
        if (this.#commandsRun.has(key) || c.DocumentName !== 'AWS-RunShellScript' || !meantFor(c.Comment, id)) continue;
        this.#commandsRun.add(key);
        await instance.runCommand(c.Parameters?.commands ?? []);
      }
    }
  }

  /** The live instances' types, by id. */
  async #liveInstances(): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    const filters = [{ Name: 'tag:orca.research/cluster', Values: [this.#o.clusterId] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }];
    for await (const page of paginateDescribeInstances({ client: this.#aws.ec2 }, { Filters: filters })) {
      for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) if (i.InstanceId !== undefined) ids.set(i.InstanceId, i.InstanceType ?? '');
    }
    return ids;
  }

  async #boot(id: string, type: string): Promise<void> {
    if (this.#instances.size >= (this.#o.maxInstances ?? 20)) {
      if (!this.errors.some((e) => e.includes(id))) this.errors.push(`${id}: not booted, the emulator runs at most ${this.#o.maxInstances ?? 20} instances`);
      return;
    }
    try {
      const attr = await this.#aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
      const userData = Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8');
      this.#instances.set(id, await EmulatedInstance.boot({ id, type, dir: join(this.#o.workDir, id), userData, aws: this.#aws }));
    } catch (e) {
      this.#note(`boot ${id}`, e);
    }
  }

  #note(what: string, e: unknown): void {
    if (this.errors.length < 100) this.errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
