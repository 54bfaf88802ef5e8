// The instance emulator's parts without moto: the docker command lines it understands, its IMDSv2
// token rules and notices, and the docker shim driving the docker stand-in (no log driver, so no
// AWS call is made).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAttach, parseExec, parseRun, render, UsageError } from '../instance-emulator/docker-cli.js';
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

  it('takes -i and -t for docker run, also combined as docker takes them', () => {
    const run = parseRun(['-dit', '--name', 'orca-main-0', 'img', '-x']);
    expect([...run.flags.keys()]).toEqual(['detach', 'interactive', 'tty', 'name']);
    expect(run.args).toEqual(['-x']);
  });

  it('parses docker exec and docker attach as the exec helper runs them', () => {
    const e = parseExec(['-i', '-t', '--detach-keys', 'ctrl-@,ctrl-^', '-e', 'A=1', '-w', '/w', '-u', '0', 'orca-main-0', 'sh', '-c', 'echo -e x']);
    expect(e.container).toBe('orca-main-0');
    expect(e.argv).toEqual(['sh', '-c', 'echo -e x']);
    expect(Object.fromEntries(e.flags)).toEqual({ interactive: ['true'], tty: ['true'], 'detach-keys': ['ctrl-@,ctrl-^'], env: ['A=1'], workdir: ['/w'], user: ['0'] });
    const a = parseAttach(['--sig-proxy=false', '--detach-keys', 'ctrl-@', '--no-stdin', 'orca-main-0']);
    expect(a.container).toBe('orca-main-0');
    expect(Object.fromEntries(a.flags)).toEqual({ 'sig-proxy': ['false'], 'detach-keys': ['ctrl-@'], 'no-stdin': ['true'] });
    expect(() => parseExec(['orca-main-0'])).toThrow('"docker exec" requires at least 2 arguments.');
    expect(() => parseExec(['-d', 'orca-main-0', 'true'])).toThrow('foreground only');
    expect(() => parseExec(['--gpus', 'all', 'c', 'true'])).toThrow('unknown flag: --gpus');
    expect(() => parseAttach(['a', 'b'])).toThrow('"docker attach" requires exactly 1 argument.');
    expect(() => parseAttach(['--sig-proxy=maybe', 'a'])).toThrow('invalid argument "maybe" for "--sig-proxy" flag');
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

  /** The shim as a live process: output as it comes, the exit code or signal at its end. */
  const stream = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(shim, [...args], { env: { PATH: process.env.PATH, DOCKER_HOST: docker.host, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => { out.stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out.stderr += c.toString(); });
    child.stdin.on('error', () => undefined);
    const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      child.on('close', (code, signal) => { resolve({ code, signal, ...out }); });
    });
    return { child, out, done };
  };
  const until = async (what: () => boolean): Promise<void> => {
    await expect.poll(what, { timeout: 5000, interval: 20 }).toBe(true);
  };

  it('docker exec runs the command in the container\'s root with its environment, stdout and stderr apart, exit code its own', async () => {
    await cli(['run', '-d', '--name', 'e1', '-e', 'A=1', '--workdir', '/app', 'img', 'sleep', '600']);
    const r = await cli(['exec', '-e', 'B=2', 'e1', 'sh', '-c', 'echo "$A$B $(pwd) $HOSTNAME ${DOCKER_HOST:-unset}"; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, out: `12 ${join(dir, 'containers', 'e1', 'rootfs', 'app')} e1 unset\n`, err: 'err\n' });
    expect((await cli(['exec', '-w', '/', 'e1', 'pwd'])).out).toBe(`${join(dir, 'containers', 'e1', 'rootfs')}\n`);
    expect(await cli(['exec', '-w', '/nowhere', 'e1', 'pwd'])).toMatchObject({ code: 126, err: expect.stringContaining('chdir to cwd ("/nowhere")') as unknown });
    expect(docker.calls.at(-1)).toEqual(['exec', '-w', '/nowhere', 'e1', 'pwd']);
  });

  it('docker exec passes stdin to its end only with -i', async () => {
    expect(await cli(['exec', '-i', 'e1', 'wc', '-c'], 'hello')).toMatchObject({ code: 0, out: expect.stringMatching(/^\s*5\n$/) as unknown });
    expect(await cli(['exec', 'e1', 'wc', '-c'], 'hello')).toMatchObject({ code: 0, out: expect.stringMatching(/^\s*0\n$/) as unknown });
  });

  it('docker exec streams output as it comes and the command gets the signals sent to docker', async () => {
    const p = stream(['exec', 'e1', 'sh', '-c', 'trap "echo got TERM; exit 5" TERM; echo ready; while :; do sleep 0.05; done']);
    await until(() => p.out.stdout === 'ready\n');
    p.child.kill('SIGTERM');
    expect(await p.done).toMatchObject({ code: 5, stdout: 'ready\ngot TERM\n' });
  });

  it('docker exec -it gives the command the caller\'s terminal, and wants one', async () => {
    expect(await cli(['exec', '-i', '-t', 'e1', 'true'])).toEqual({ code: 1, out: '', err: 'the input device is not a TTY\n' });
    // util-linux script: the command on a pty, as the exec helper gives docker one (async: the stand-in runs in this process).
    const script = execFileSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).trim();
    const out = await new Promise<string>((resolve) => {
      execFile(script, ['-qfec', `${shim} exec -i -t e1 sh -c 'test -t 0 && test -t 1 && echo terminal'`, '/dev/null'], {
        env: { PATH: process.env.PATH, DOCKER_HOST: docker.host, SHELL: '/bin/sh' }, encoding: 'utf8',
      }, (_e, stdout) => { resolve(stdout); });
    });
    expect(out).toBe('terminal\r\n');
  });

  it('docker exec answers as docker does for a container that is unknown or not running', async () => {
    expect(await cli(['exec', 'nope', 'true'])).toEqual({ code: 1, out: '', err: 'Error response from daemon: No such container: nope\n' });
    await cli(['run', '-d', '--name', 'gone', 'img', 'true']);
    await expect.poll(async () => (await cli(['inspect', '-f', '{{.State.Running}}', 'gone'])).out).toBe('false\n');
    const id = (await cli(['inspect', '-f', '{{.Id}}', 'gone'])).out.trim();
    expect(await cli(['exec', 'gone', 'true'])).toEqual({ code: 1, out: '', err: `Error response from daemon: container ${id} is not running\n` });
    expect(await cli(['exec', 'e1'])).toMatchObject({ code: 125, err: 'docker: "docker exec" requires at least 2 arguments.\n' });
  });

  it('docker attach streams the output from then on to every client, stdin of a -i container, and ends with its exit code', async () => {
    const echo = 'while read l; do echo "echo:$l"; if [ "$l" = end ]; then echo bye >&2; exit 9; fi; done';
    await cli(['run', '-d', '-i', '--name', 'a1', 'img', 'sh', '-c', echo]);
    const watcher = stream(['attach', '--no-stdin', '--sig-proxy=false', 'a1']);
    await until(() => docker.container('a1')?.attached === 1);
    const talker = stream(['attach', '--sig-proxy=false', '--detach-keys', 'ctrl-@', 'a1']);
    await until(() => docker.container('a1')?.attached === 2);
    talker.child.stdin.write('one\n');
    await until(() => watcher.out.stdout === 'echo:one\n');
    talker.child.stdin.end('end\n');
    for (const r of [await watcher.done, await talker.done]) expect(r).toEqual({ code: 9, signal: null, stdout: 'echo:one\necho:end\n', stderr: 'bye\n' });
    expect(docker.container('a1')?.attached).toBe(0);
  });

  it('docker attach does not pass stdin to a container run without -i', async () => {
    await cli(['run', '-d', '--name', 'a2', 'img', 'sh', '-c', 'sleep 1; echo late; read x; exit 2']);
    const p = stream(['attach', 'a2']);
    p.child.stdin.end('ignored\n');
    expect(await p.done).toMatchObject({ code: 2, stdout: 'late\n' });
  });

  it('docker attach refuses a container that is unknown or stopped, and a bad command line', async () => {
    expect(await stream(['attach', 'nope']).done).toMatchObject({ code: 1, stderr: 'Error response from daemon: No such container: nope\n' });
    expect(await stream(['attach', 'gone']).done).toMatchObject({ code: 1, stderr: 'You cannot attach to a stopped container, start it first\n' });
    expect(await stream(['attach', '--nope', 'e1']).done).toMatchObject({ code: 125, stderr: 'docker: unknown flag: --nope\n' });
    expect(docker.calls.at(-1)).toEqual(['attach', '--nope', 'e1']);
  });
});
