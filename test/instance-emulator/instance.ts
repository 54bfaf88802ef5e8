// One emulated EC2 instance: its IMDS, its docker, and its user data run by `sh` as cloud-init
// would, in <dir>: user-data.sh, home/ (ORCA_HOME), bin/ (docker, aws, and nvidia-smi on a GPU
// type; gpu-bin/ holds only nvidia-smi, for containers run with --gpus), docker/ (argv.log, the
// containers' state), gpus and gpu-names (what nvidia-smi shows) and agent.log. The agent's environment is built from nothing: the instance's
// own settings, the AWS endpoint and credentials, and a system PATH with bin/ first.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { DockerStandIn } from './docker-stand-in.js';
import { emulatedGpus } from './gpus.js';
import { Imds } from './imds.js';
import { release, track } from './reaper.js';

const dockerShim = fileURLToPath(new URL('./docker-shim.sh', import.meta.url));
const nvidiaSmi = fileURLToPath(new URL('./nvidia-smi.sh', import.meta.url));
const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Kept in memory per agent; the whole output is in agent.log. */
const logLimit = 1 << 20;

export interface AwsAccess {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly ec2: EC2Client;
  readonly logs: CloudWatchLogsClient;
  readonly ssm: SSMClient;
  /** The AWS CLI (v1, honouring AWS_ENDPOINT_URL) put on the agent's PATH as `aws`. */
  readonly awsBin: string;
}

/** Where a command runs "on" the instance as its SSM agent would run it: the agent's environment and directory. */
export interface AgentContext {
  readonly env: Readonly<Record<string, string>>;
  readonly dir: string;
}

export interface InstanceBoot {
  readonly id: string;
  /** The instance type: a GPU type gets the nvidia-smi stand-in. */
  readonly type: string;
  readonly dir: string;
  readonly userData: string;
  readonly aws: AwsAccess;
}

function agentEnv(b: InstanceBoot, imds: string, docker: string): Record<string, string> {
  const { aws } = b;
  return {
    PATH: `${join(b.dir, 'bin')}:${systemPath}`,
    HOME: b.dir,
    ORCA_IMDS: imds,
    ORCA_HOME: join(b.dir, 'home'),
    ORCA_POLL_SECONDS: '1',
    DOCKER_HOST: docker,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_REGION: aws.region,
    AWS_DEFAULT_REGION: aws.region,
    // No profile of the machine running the tests may leak in.
    AWS_CONFIG_FILE: join(b.dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(b.dir, 'aws-credentials'),
  };
}

export class EmulatedInstance {
  readonly id: string;
  readonly dir: string;
  readonly imds: Imds;
  readonly docker: DockerStandIn;
  readonly #agent: ChildProcess;
  readonly #env: Record<string, string>;
  readonly #agentExit: Promise<unknown>;
  #log = '';
  #exitCode: number | null | undefined;
  #shutdown: Promise<void> | undefined;

  private constructor(b: InstanceBoot, imds: Imds & { readonly url: string }, docker: DockerStandIn & { readonly host: string }) {
    this.id = b.id;
    this.dir = b.dir;
    this.imds = imds;
    this.docker = docker;
    this.#env = agentEnv(b, imds.url, docker.host);
    this.#agent = spawn('sh', ['user-data.sh'], { cwd: b.dir, env: this.#env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    track(this.#agent.pid);
    this.#agentExit = once(this.#agent, 'exit');
    this.#agent.on('exit', (code, signal) => {
      this.#exitCode = signal === null ? code : null;
      release(this.#agent.pid);
    });
    for (const out of [this.#agent.stdout, this.#agent.stderr]) out?.on('data', (chunk: Buffer) => { this.#output(chunk.toString('utf8')); });
  }

  static async boot(b: InstanceBoot): Promise<EmulatedInstance> {
    rmSync(b.dir, { recursive: true, force: true });
    mkdirSync(join(b.dir, 'home'), { recursive: true });
    mkdirSync(join(b.dir, 'bin'), { recursive: true });
    writeFileSync(join(b.dir, 'user-data.sh'), b.userData, { mode: 0o755 });
    writeFileSync(join(b.dir, 'agent.log'), '');
    symlinkSync(dockerShim, join(b.dir, 'bin', 'docker'));
    symlinkSync(b.aws.awsBin, join(b.dir, 'bin', 'aws'));
    const gpus = emulatedGpus.get(b.type);
    if (gpus !== undefined) {
      writeFileSync(join(b.dir, 'gpus'), `${Array.from({ length: gpus.count }, () => `0, 0, ${String(gpus.memoryMiB)}`).join('\n')}\n`);
      symlinkSync(nvidiaSmi, join(b.dir, 'bin', 'nvidia-smi'));
      mkdirSync(join(b.dir, 'gpu-bin'));
      symlinkSync(nvidiaSmi, join(b.dir, 'gpu-bin', 'nvidia-smi'));
      writeFileSync(join(b.dir, 'gpu-names'), `${Array.from({ length: gpus.count }, (_, i) => `GPU ${String(i)}: ${gpus.model} (UUID: GPU-${b.id.slice(2)}-${String(i)})`).join('\n')}\n`);
    }
    const imds = await Imds.start({ instanceId: b.id, region: b.aws.region, ec2: b.aws.ec2 });
    const docker = await DockerStandIn.start({ dir: join(b.dir, 'docker'), logs: b.aws.logs, ...(gpus === undefined ? {} : { gpuBin: join(b.dir, 'gpu-bin') }) });
    return new EmulatedInstance(b, imds, docker);
  }

  /** The agent's output (its log goes to stderr). */
  get log(): string {
    return this.#log;
  }

  /** The agent's environment and the instance's directory (for Session Manager sessions run on it). */
  get agentContext(): AgentContext {
    return { env: { ...this.#env }, dir: this.dir };
  }

  /** The agent's exit code; undefined while it runs, null when a signal ended it. */
  get agentExitCode(): number | null | undefined {
    return this.#exitCode;
  }

  /**
   * Runs an SSM Run Command (AWS-RunShellScript) on the instance: its commands in sh, in the agent's
   * environment (so ORCA_HOME points at this instance's home). Resolves with the exit code.
   */
  async runCommand(commands: readonly string[]): Promise<number | null> {
    const child = spawn('sh', ['-c', commands.join('\n')], { cwd: this.dir, env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const out of [child.stdout, child.stderr]) out.on('data', (chunk: Buffer) => { this.#output(chunk.toString('utf8')); });
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  }

  /** The instance goes away: its agent and every container are killed, its IMDS and docker closed. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<void> {
    const pid = this.#agent.pid;
    if (pid !== undefined && this.#agent.exitCode === null && this.#agent.signalCode === null) {
      try {
        // Its own process group: the agent and whatever it runs (aws, curl, sleep).
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
      await this.#agentExit;
    }
    await this.docker.stop();
    await this.imds.close();
  }

  #output(text: string): void {
    appendFileSync(join(this.dir, 'agent.log'), text);
    if (this.#log.length < logLimit) this.#log += text;
  }
}
