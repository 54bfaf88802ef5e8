// kubectl exec, attach, cp and port-forward end to end: the bed's kubectl asks the real apiserver,
// which translates kubectl's WebSocket into SPDY/3.1 to ORCA's kubelet API (or passes SPDY through);
// ORCA starts a Session Manager session on the pod's emulated instance (the test bed's Session
// Manager stand-in, which plays the service and the SSM agent: a pty, the agent's UTF-8 filter,
// acks and resends, smux for port sessions), and the exec helper it sends runs `docker exec` there.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatedNode, type EmulatedNode } from './ec2-node.js';
import { createNamespace, testbed, waitFor } from './fixture.js';
import { core, podNow, shPod as shPodFor } from './pods.js';

const ns = 'kubectl-exec';
const node = 'orca-exec-node';
const clusterId = 'e2e-exec';
const ttyDriver = fileURLToPath(new URL('./tty-driver.py', import.meta.url));
let bed: EmulatedNode;
let work: string;

const shPod = (name: string, script: string): V1Pod => shPodFor(name, node, script);

interface Run { readonly code: number | null; readonly stdout: Buffer; readonly stderr: string }

/** kubectl with stdin from `input` (a file or bytes), its stdout kept as bytes. */
function kubectlRaw(args: readonly string[], o: { readonly input?: Buffer; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<Run> {
  const b = testbed();
  const child = spawn(b.binaries.kubectl, ['--kubeconfig', b.kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  child.stdin.on('error', () => undefined);
  child.stdin.end(o.input ?? Buffer.alloc(0));
  const timer = setTimeout(() => { child.kill('SIGKILL'); }, o.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(out), stderr: err }); });
  });
}

const exec = (pod: string, argv: readonly string[], o?: Parameters<typeof kubectlRaw>[1], flags: readonly string[] = []) =>
  kubectlRaw(['exec', '-n', ns, ...flags, pod, '--', ...argv], o);

const untilRunning = (name: string) => waitFor(`${name} running`, async () => {
  const p = await podNow(ns, name);
  return p?.status?.containerStatuses?.[0]?.state?.running === undefined ? undefined : p;
}, 120_000, 500);

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await createNamespace(ns);
  work = mkdtempSync(join(tmpdir(), 'orca-exec-'));
  bed = await startEmulatedNode({ node, clusterId, sessions: true });
  await core().createNamespacedPod({ namespace: ns, body: shPod('target', 'echo ready; while true; do sleep 1; done') });
  await untilRunning('target');
}, 240_000);
afterAll(async () => {
  // The file's pods go with it (their instances are terminated), so later files do not share the
  // control plane with pods of a node that no longer exists.
  await core().deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 });
  await waitFor('the file\'s pods to be gone', async () => ((await core().listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined), 120_000, 1000);
  await bed.stop();
}, 300_000);

describe('kubectl exec on a burst pod', () => {
  it('passes argv exactly: no joining, no quoting, empty arguments kept', async () => {
    const r = await exec('target', ['printf', '%s\\n', 'a b', 'c"d', '$HOME', '']);
    expect({ code: r.code, out: r.stdout.toString(), err: r.stderr }).toEqual({ code: 0, out: 'a b\nc"d\n$HOME\n\n', err: '' });
  });

  it('keeps stdout and stderr apart and exits with the command\'s code', async () => {
    const r = await exec('target', ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).not.toContain('out');
  });

  it('does the same over SPDY end to end (kubectl without WebSockets)', async () => {
    const r = await exec('target', ['sh', '-c', 'echo out; echo err >&2; exit 3'], { env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
    expect([r.code, r.stdout.toString()]).toEqual([3, 'out\n']);
    expect(r.stderr).toContain('err\n');
  });

  it('reads 5 MiB of stdin to its end (wc -c)', async () => {
    const input = randomBytes(5 * 1024 * 1024);
    const r = await exec('target', ['wc', '-c'], { input }, ['-i']);
    expect([r.code, r.stdout.toString().trim()]).toEqual([0, '5242880']);
  }, 180_000);

  it('round-trips binary stdin byte for byte (cat)', async () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbf, 0xbd, 0xff, 0x00, 0xc3]), randomBytes(256 * 1024), Buffer.from([0xe2, 0x82])]);
    const r = await exec('target', ['cat'], { input }, ['-i']);
    expect(r.code).toBe(0);
    expect(sha(r.stdout)).toBe(sha(input));
  }, 120_000);

  it('runs an interactive shell on a terminal, applies a resize, and exits with the shell\'s status', async () => {
    const b = testbed();
    const scenario = {
      rows: 24, cols: 80, timeout: 60,
      steps: [
        { send: 'stty size\n' }, { expect: '24 80' },
        { resize: [33, 111] }, { sleep: 1 },
        { send: 'stty size\n' }, { expect: '33 111' },
        { send: 'exit 5\n' },
      ],
    };
    const child = spawn('python3', [ttyDriver, JSON.stringify(scenario), b.binaries.kubectl, '--kubeconfig', b.kubeconfig, 'exec', '-it', '-n', ns, 'target', '--', 'sh'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let transcript = '';
    child.stderr.on('data', (c: Buffer) => { transcript += c.toString(); });
    const [code] = (await once(child, 'close')) as [number | null];
    expect({ code, transcript: code === 5 ? '' : transcript }).toEqual({ code: 5, transcript: '' });
  }, 120_000);

  it('copies a 10 MiB file into the pod and back (kubectl cp) unchanged', async () => {
    const blob = randomBytes(10 * 1024 * 1024);
    const local = join(work, 'blob.bin');
    writeFileSync(local, blob);
    const up = await kubectlRaw(['cp', local, `${ns}/target:blob.bin`], { timeoutMs: 240_000 });
    expect({ code: up.code, err: up.stderr }).toEqual({ code: 0, err: '' });
    const back = join(work, 'back.bin');
    const down = await kubectlRaw(['cp', `${ns}/target:blob.bin`, back], { timeoutMs: 240_000 });
    expect({ code: down.code, err: down.stderr.replace(/^tar: Removing leading .*\n/m, '') }).toEqual({ code: 0, err: '' });
    expect(sha(readFileSync(back))).toBe(sha(blob));
  }, 480_000);

  it('answers exec on a container that is not running with the kubelet\'s text', async () => {
    const p = shPod('waiting', 'echo never');
    if (p.spec !== undefined) p.spec.initContainers = [{ name: 'setup', image: 'public.ecr.aws/docker/library/busybox:1.37', command: ['sh', '-c', 'sleep 600'] }];
    await core().createNamespacedPod({ namespace: ns, body: p });
    await waitFor('the init container to run', async () => {
      const s = await podNow(ns, 'waiting');
      return s?.status?.initContainerStatuses?.[0]?.state?.running;
    }, 120_000, 500);
    const r = await exec('waiting', ['true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('container not found ("main")');
  }, 180_000);
});

describe('kubectl attach on a burst pod', () => {
  it('streams the running container\'s output from now on', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('ticker', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.5; done') });
    await untilRunning('ticker');
    const b = testbed();
    const child = spawn(b.binaries.kubectl, ['--kubeconfig', b.kubeconfig, 'attach', '-n', ns, 'ticker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    await waitFor('three ticks through attach', () => Promise.resolve((out.match(/tick \d+\n/g) ?? []).length >= 3 ? out : undefined), 60_000, 200);
    child.kill('SIGINT');
    await once(child, 'close');
    const ticks = (out.match(/tick (\d+)/g) ?? []).map((t) => Number(t.split(' ')[1]));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks.every((n, i) => i === 0 || n === (ticks[i - 1] ?? 0) + 1)).toBe(true);
  }, 180_000);
});

describe('kubectl attach -i on a burst pod', () => {
  it('sends input to the main process of a container with stdin, and shows its answers', async () => {
    const p = shPod('reader', 'while read -r line; do echo "got $line"; done');
    const c = p.spec?.containers[0];
    if (c !== undefined) c.stdin = true;
    await core().createNamespacedPod({ namespace: ns, body: p });
    await untilRunning('reader');
    const b = testbed();
    const child = spawn(b.binaries.kubectl, ['--kubeconfig', b.kubeconfig, 'attach', '-i', '-n', ns, 'reader'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    // Until the attach is up, a line may go nowhere: keep saying it until an answer comes.
    const timer = setInterval(() => { child.stdin.write('hello attach\n'); }, 1000);
    try {
      await waitFor('the container to answer through attach', () => Promise.resolve(out.includes('got hello attach') ? out : undefined), 60_000, 200);
    } finally {
      clearInterval(timer);
      child.kill('SIGINT');
    }
    await once(child, 'close');
    expect(out).toContain('got hello attach\n');
  }, 180_000);
});

describe('kubectl port-forward to a burst pod', () => {
  it('carries 1000 sequential and 50 concurrent HTTP requests, none lost', async () => {
    const port = await freePort();
    const server = `import http.server as h
class H(h.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = self.path.encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
h.ThreadingHTTPServer(('127.0.0.1', ${String(port)}), H).serve_forever()`;
    const pod = shPod('web', `echo serving; exec python3 -c "$SERVER"`);
    const c = pod.spec?.containers[0];
    if (c !== undefined) c.env = [{ name: 'SERVER', value: server }];
    await core().createNamespacedPod({ namespace: ns, body: pod });
    await untilRunning('web');
    const local = await freePort();
    const b = testbed();
    const pf = spawn(b.binaries.kubectl, ['--kubeconfig', b.kubeconfig, 'port-forward', '-n', ns, 'pod/web', `${String(local)}:${String(port)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let said = '';
      pf.stdout.on('data', (d: Buffer) => { said += d.toString(); });
      await waitFor('port-forward to listen', () => Promise.resolve(said.includes('Forwarding from') ? said : undefined), 60_000, 200);
      // A new connection for every request (no keep-alive): each is a stream pair of its own.
      const get = (i: number): Promise<string> => new Promise((resolve, reject) => {
        const req = httpGet({ host: '127.0.0.1', port: local, path: `/r${String(i)}`, agent: false, headers: { connection: 'close' } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => { body += d.toString(); });
          res.on('end', () => { resolve(body); });
        });
        req.on('error', reject);
      });
      await waitFor('the server in the pod to answer', () => get(0).catch(() => undefined), 60_000, 500);
      const started = Date.now();
      for (let i = 0; i < 1000; i++) expect(await get(i)).toBe(`/r${String(i)}`);
      const sequentialMs = Date.now() - started;
      const concurrent = await Promise.all(Array.from({ length: 50 }, (_, i) => get(1000 + i)));
      expect(concurrent).toEqual(Array.from({ length: 50 }, (_, i) => `/r${String(1000 + i)}`));
      console.info(`port-forward: 1000 sequential requests in ${String(sequentialMs)} ms`);
    } finally {
      pf.kill('SIGINT');
    }
    await once(pf, 'close');
    // No session outlives its request: the port session is terminated once kubectl has gone.
    const ended = await waitFor('every Session Manager session to end', () => Promise.resolve(bed.sessions?.counters.open === 0 ? bed.sessions.counters : undefined), 60_000, 250);
    expect(ended.terminated).toBeGreaterThan(0);
  }, 300_000);
});
