// The instance emulator's parts without moto: the docker command lines it understands, its IMDSv2
// token rules and notices, and the docker shim driving the docker stand-in (no log driver, so no
// AWS call is made).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRun, render, UsageError } from '../instance-emulator/docker-cli.js';
import { DockerStandIn } from '../instance-emulator/docker-stand-in.js';
import { Imds } from '../instance-emulator/imds.js';

const shim = fileURLToPath(new URL('../instance-emulator/docker-shim.sh', import.meta.url));
const offline = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

describe('docker command lines', () => {
  it('parses the agent\'s docker run words, flags in order and the command after the image', () => {
    const run = parseRun(['-d', '--name', 'orca-main-0', '--gpus', '"device=0,1"', '-e', 'A=1', '--env=B=2', '--read-only', '--entrypoint', 'sh', 'busybox', '-c', 'echo -e hi']);
    expect(run.image).toBe('busybox');
    expect(run.args).toEqual(['-c', 'echo -e hi']);
    expect(run.flags.get('env')).toEqual(['A=1', 'B=2']);
    expect(run.flags.get('gpus')).toEqual(['"device=0,1"']);
    expect(run.flags.get('read-only')).toEqual(['true']);
  });

  it('refuses a flag docker run would not take, and a run without an image', () => {
    expect(() => parseRun(['-d', '--gpu', 'all', 'img'])).toThrow(new UsageError('unknown flag: --gpu'));
    expect(() => parseRun(['-d', '--name'])).toThrow('flag needs an argument: --name');
    expect(() => parseRun(['-d'])).toThrow('requires at least 1 argument');
  });

  it('fills field paths of a Go template and refuses anything else', () => {
    const state = { State: { Running: false, ExitCode: 143, OOMKilled: false } };
    expect(render('{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}', state)).toBe('false 143 false');
    expect(() => render('{{json .State}}', state)).toThrow(UsageError);
    expect(() => render('{{.State.Nope}}', state)).toThrow('can\'t evaluate field .State.Nope');
  });
});

describe('IMDSv2 stand-in', () => {
  let imds: Imds & { readonly url: string };
  beforeAll(async () => { imds = await Imds.start({ instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', ec2: new EC2Client(offline) }); });
  afterAll(async () => { await imds.close(); });

  it('wants a token with a TTL, and the token on every read', async () => {
    expect((await fetch(`${imds.url}/latest/api/token`, { method: 'PUT' })).status).toBe(400);
    expect((await fetch(`${imds.url}/latest/meta-data/instance-id`)).status).toBe(401);
    const token = await (await fetch(`${imds.url}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
    const get = (path: string) => fetch(`${imds.url}/latest/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token } });
    expect(await (await get('instance-id')).text()).toBe('i-0123456789abcdef0');
    expect(await (await get('placement/region')).text()).toBe('eu-west-1');
    expect((await get('spot/instance-action')).status).toBe(404);
    imds.injectSpotNotice();
    expect(JSON.parse(await (await get('spot/instance-action')).text())).toMatchObject({ action: 'terminate', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown });
    expect((await get('events/recommendations/rebalance')).status).toBe(404);
  });
});

describe('the docker shim and the docker stand-in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orca-docker-'));
  let docker: DockerStandIn & { readonly host: string };
  beforeAll(async () => { docker = await DockerStandIn.start({ dir, logs: new CloudWatchLogsClient(offline) }); });
  afterAll(async () => { await docker.stop(); });

  const cli = (args: readonly string[], input?: string): Promise<{ code: number; out: string; err: string }> => new Promise((resolve) => {
    const child = execFile(shim, [...args], { env: { PATH: process.env.PATH, DOCKER_HOST: docker.host } }, (e, out, err) => {
      resolve({ code: typeof e?.code === 'number' ? e.code : 0, out, err });
    });
    child.stdin?.end(input ?? '');
  });

  it('runs a container detached, reports its exit as docker inspect does, and records every command line', async () => {
    expect((await cli(['run', '-d', '--name', 'c1', '-e', 'X=41', '--entrypoint', 'sh', 'img', '-c', 'exit $((X + 1))'])).code).toBe(0);
    const inspect = ['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}', 'c1'];
    await expect.poll(async () => (await cli(inspect)).out, { timeout: 5000 }).toBe('false 42 false\n');
    expect(await cli(['inspect', '-f', '{{.State.Running}}', 'nope'])).toMatchObject({ code: 1, err: 'Error: No such object: nope\n' });
    expect(await cli(['run', '-d', '--name', 'c1', 'img', 'true'])).toMatchObject({ code: 125 });
    expect(readFileSync(join(dir, 'argv.log'), 'utf8').split('\n')[0]).toBe(JSON.stringify(['run', '-d', '--name', 'c1', '-e', 'X=41', '--entrypoint', 'sh', 'img', '-c', 'exit $((X + 1))']));
  });

  it('stops with SIGTERM (exit 143), kills with SIGKILL (exit 137), and shows stats of a running container', async () => {
    await cli(['run', '-d', '--name', 'slow', '--memory', '1g', 'img', 'sleep', '600']);
    await cli(['run', '-d', '--name', 'doomed', 'img', 'sleep', '600']);
    expect((await cli(['stats', '--no-stream', '--format', '{{.CPUPerc}} {{.MemUsage}}', 'slow'])).out).toMatch(/^\d+\.\d\d% [\d.]+(B|KiB|MiB) \/ 1\.00GiB\n$/);
    // The agent's per-container form: one line per name asked, in that order.
    expect((await cli(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}}', 'doomed', 'slow'])).out)
      .toMatch(/^doomed \d+\.\d\d% [\d.]+(B|KiB|MiB) \/ [\d.]+GiB\nslow \d+\.\d\d% [\d.]+(B|KiB|MiB) \/ 1\.00GiB\n$/);
    expect(await cli(['stop', '-t', '5', 'slow'])).toMatchObject({ code: 0, out: 'slow\n' });
    expect((await cli(['inspect', '-f', '{{.State.ExitCode}}', 'slow'])).out).toBe('143\n');
    expect((await cli(['kill', 'doomed'])).code).toBe(0);
    await expect.poll(async () => (await cli(['inspect', '-f', '{{.State.ExitCode}}', 'doomed'])).out).toBe('137\n');
  });

  it('pulls any image but one named does-not-exist, and logs in with the password on stdin', async () => {
    expect((await cli(['pull', 'busybox:1.37'])).code).toBe(0);
    expect((await cli(['pull', 'example.org/does-not-exist:1'])).code).toBe(1);
    expect(await cli(['login', '--username', 'u', '--password-stdin', 'example.org'], 'pw\n')).toMatchObject({ code: 0, out: 'Login Succeeded\n' });
    expect(docker.calls.at(-1)).toEqual(['login', '--username', 'u', '--password-stdin', 'example.org']);
  });
});
