// `kubectl logs` end to end: the bed's kubectl asks the real apiserver, which reaches ORCA's kubelet
// API with its kubelet client certificate and verifies ORCA's serving certificate; ORCA reads the
// CloudWatch Logs streams (moto) that the agent's containers wrote in the instance emulator.
// Every flag, -p after a restart, -c in a two-container pod, the error for a pod still creating,
// and a follow that keeps up with the container and ends by itself when it exits.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatedNode, type EmulatedNode } from './ec2-node.js';
import { createNamespace, kubectl, testbed, waitFor } from './fixture.js';
import { core, podNow, shPod as shPodFor, type ShPodOptions } from './pods.js';

const ns = 'kubectl-logs';
const node = 'orca-logs-node';
const clusterId = 'e2e-logs';
let bed: EmulatedNode;
let shared: string;

const shPod = (name: string, script: string, o: ShPodOptions = {}): V1Pod => shPodFor(name, node, script, o);

beforeAll(async () => {
  await createNamespace(ns);
  shared = mkdtempSync(join(tmpdir(), 'orca-logs-'));
  bed = await startEmulatedNode({ node, clusterId, kubeletApi: { logs: { followPollSeconds: 1 } } });
});
afterAll(async () => { await bed.stop(); });

const logs = (...args: string[]) => kubectl(['logs', '-n', ns, ...args]);

const untilRunning = (name: string) => waitFor(`${name} running`, async () => {
  const p = await podNow(ns, name);
  return p?.status?.phase === 'Running' ? p : undefined;
}, 90_000, 500);

interface Followed { readonly lines: { readonly text: string; readonly at: number }[]; readonly exit: Promise<number | null> }

/** `kubectl logs -f`, each line with the time it arrived. */
function follow(...args: string[]): Followed {
  const bed = testbed();
  const child = spawn(bed.binaries.kubectl, ['--kubeconfig', bed.kubeconfig, 'logs', '-f', '-n', ns, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: { text: string; at: number }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => { lines.push({ text, at: Date.now() }); });
  const exit = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code); }); });
  setTimeout(() => { child.kill(); }, 120_000).unref();
  return { lines, exit };
}

describe('kubectl logs on a burst pod', () => {
  it('answers a pod still creating with the kubelet\'s message', async () => {
    const p = shPod('early', 'echo never; sleep 600');
    if (p.spec !== undefined) p.spec.initContainers = [{ name: 'setup', image: 'public.ecr.aws/docker/library/busybox:1.37', command: ['sh', '-c', 'sleep 600'] }];
    await core().createNamespacedPod({ namespace: ns, body: p });
    const reason = await waitFor('the init container to run', async () => {
      const s = await podNow(ns, 'early');
      return s?.status?.initContainerStatuses?.[0]?.state?.running === undefined ? undefined : s.status.containerStatuses?.[0]?.state?.waiting?.reason;
    }, 90_000, 500);
    const out = await logs('early', '-c', 'main');
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(`container "main" in pod "early" is waiting to start: ${reason}`);
    expect((await logs('early', '-c', 'setup')).code).toBe(0);
    await core().deleteNamespacedPod({ name: 'early', namespace: ns, gracePeriodSeconds: 0 });
  });

  it('follows a container, each line at most 3 s after it was written, and exits by itself when the container exits', async () => {
    // Each line carries the time it was written (ms).
    await core().createNamespacedPod({ namespace: ns, body: shPod('ticker', 'i=0; while [ $i -lt 15 ]; do echo "tick $i $(date +%s%3N)"; i=$((i+1)); sleep 1; done') });
    await untilRunning('ticker');
    const f = follow('ticker');
    const code = await f.exit;
    const ticks = f.lines.map((l) => ({ ...l, written: Number(l.text.split(' ')[2]) })).filter((l) => Number.isFinite(l.written));
    const delays = ticks.map((l) => (l.at - l.written) / 1000).sort((a, b) => a - b);
    const ended = Date.parse((await podNow(ns, 'ticker'))?.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt?.toString() ?? '');
    const lastAt = f.lines.at(-1)?.at ?? 0;
    console.log(`follow figures: ${JSON.stringify({ lines: ticks.length, delayP50: delays[Math.floor(delays.length / 2)], delayMax: delays.at(-1), secondsFromLastLineToExit: (Date.now() - lastAt) / 1000, secondsFromContainerEnd: Number.isNaN(ended) ? null : (Date.now() - ended) / 1000 })}`);
    expect(code).toBe(0);
    expect(f.lines.map((l) => l.text.split(' ').slice(0, 2).join(' '))).toEqual(Array.from({ length: 15 }, (_, i) => `tick ${String(i)}`));
    // Lines written after kubectl connected arrive within 3 s (the first were read at once).
    expect(delays.at(-1)).toBeLessThanOrEqual(3);
  });

  it('serves --tail, --since, --since-time, --timestamps and --limit-bytes', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('counter', 'for i in 1 2 3 4 5; do echo "line $i"; done; sleep 4; echo "late line"; sleep 600') });
    await untilRunning('counter');
    await waitFor('the late line', async () => ((await logs('counter')).stdout.includes('late line') ? true : undefined), 60_000, 500);
    expect((await logs('counter')).stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nlate line\n');
    expect((await logs('counter', '--tail=2')).stdout).toBe('line 5\nlate line\n');
    expect((await logs('counter', '--since=3s')).stdout).not.toContain('line 1');
    const stamped = (await logs('counter', '--timestamps', '--tail=1')).stdout;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z late line\n$/);
    const lateAt = new Date(Date.parse(stamped.slice(0, 30)) - 1000);
    expect((await logs('counter', `--since-time=${lateAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`)).stdout).toBe('late line\n');
    expect((await logs('counter', '--limit-bytes=9')).stdout).toBe('line 1\nli');
    await core().deleteNamespacedPod({ name: 'counter', namespace: ns, gracePeriodSeconds: 0 });
  });

  it('serves -p, the run before a restart, and the kubelet\'s message when there is none', async () => {
    const counter = join(shared, 'restarts');
    await core().createNamespacedPod({ namespace: ns, body: shPod('flaky', `n=$(cat ${counter} 2>/dev/null || echo 0); echo "run $n"; echo $((n+1)) > ${counter}; [ "$n" -ge 1 ] && sleep 600; exit 3`, { restartPolicy: 'OnFailure' }) });
    await waitFor('the second run', async () => {
      const p = await podNow(ns, 'flaky');
      const c = p?.status?.containerStatuses?.[0];
      return (c?.restartCount ?? 0) >= 1 && c?.state?.running !== undefined ? p : undefined;
    }, 120_000, 500);
    await waitFor('the second run\'s line', async () => ((await logs('flaky')).stdout === 'run 1\n' ? true : undefined), 30_000, 500);
    expect((await logs('flaky', '-p')).stdout).toBe('run 0\n');
    const none = await logs('no-such-pod', '-p');
    expect(none.stderr).toContain('pods "no-such-pod" not found');
    await core().createNamespacedPod({ namespace: ns, body: shPod('fresh', 'echo hi; sleep 600') });
    await untilRunning('fresh');
    const fresh = await logs('fresh', '-p');
    expect(fresh.stderr).toContain('previous terminated container "main" in pod "fresh" not found');
  });

  it('serves -c in a two-container pod', async () => {
    const p = shPod('pair', 'echo from main; sleep 600');
    p.spec?.containers.push({ name: 'side', image: 'public.ecr.aws/docker/library/busybox:1.37', command: ['sh', '-c', 'echo from side; sleep 600'] });
    await core().createNamespacedPod({ namespace: ns, body: p });
    await untilRunning('pair');
    await waitFor('both lines', async () => ((await logs('pair', '-c', 'side')).stdout === 'from side\n' ? true : undefined), 30_000, 500);
    expect((await logs('pair', '-c', 'main')).stdout).toBe('from main\n');
    const unknown = await logs('pair', '-c', 'nope');
    expect(unknown.stderr).toContain('container nope is not valid for pod pair');
  });
});
