// ORCA killed (SIGKILL) and restarted mid-run: no pod lost, no duplicate launched, and the node stays
// Ready across a short restart; a long outage makes the node-lifecycle controller mark it NotReady.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readProviderState } from '../provider/test-provider.js';
import { createNamespace, testbed, waitFor } from './fixture.js';
import { burstPod, core, podNow, T, virtualNode, waitForPhase } from './pods.js';

const ns = 'restart';
const node = virtualNode('orca-restart', 8);

async function readyStatus(): Promise<string | undefined> {
  const n = await core().readNode({ name: node.name });
  return n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/** Samples the node's Ready condition every 500 ms until stopped. */
function watchReady(): { samples: string[]; stop: () => Promise<void> } {
  const samples: string[] = [];
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      samples.push((await readyStatus()) ?? 'missing');
      await sleep(500);
    }
  })();
  return { samples, stop: async () => { stop.abort(); await loop; } };
}

describe('restarting ORCA', () => {
  it('loses no pod and launches no duplicate when killed and restarted, and the node stays Ready', async () => {
    await createNamespace(ns);
    await node.start();
    const names = ['long-0', 'long-1', 'long-2', 'short-0', 'short-1', 'slow-start', 'doomed'];
    const annotations = (n: string): Record<string, string> =>
      n.startsWith('short') ? { [`${T}run-ms`]: '4000' } : n === 'slow-start' ? { [`${T}start-delay-ms`]: '6000' } : {};
    await Promise.all(names.map((n) => core().createNamespacedPod({ namespace: ns, body: burstPod(n, { annotations: annotations(n) }) })));
    for (const n of ['long-0', 'long-1', 'long-2', 'doomed']) await waitForPhase(ns, n, 'Running');

    const ready = watchReady();
    expect(await node.orca.stop('SIGKILL')).toBeNull();
    // While ORCA is down: a new pod is bound to the node, and a running pod is deleted.
    await core().createNamespacedPod({ namespace: ns, body: burstPod('while-down') });
    await core().deleteNamespacedPod({ name: 'doomed', namespace: ns });
    await sleep(4000);
    await node.start();

    for (const n of ['long-0', 'long-1', 'long-2', 'slow-start', 'while-down']) await waitForPhase(ns, n, 'Running', 30_000);
    for (const n of ['short-0', 'short-1']) await waitForPhase(ns, n, 'Succeeded', 30_000);
    await waitFor('doomed to be gone', async () => ((await podNow(ns, 'doomed')) === undefined ? true : undefined), 30_000, 250);
    await ready.stop();

    const state = readProviderState(node.stateFile);
    const uids = state.instances.map((i) => i.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(state.instances.map((i) => i.key).sort()).toEqual([...names, 'while-down'].map((n) => `${ns}/${n}`).sort());
    expect(state.createAgain).toBe(0);
    expect(ready.samples.length).toBeGreaterThan(8);
    expect(new Set(ready.samples)).toEqual(new Set(['True']));
  });

  it('is marked NotReady by the node-lifecycle controller when it stays down past the grace period, and recovers', async () => {
    const grace = testbed().nodeMonitorGracePeriodSeconds;
    expect(await node.orca.stop('SIGKILL')).toBeNull();
    const down = Date.now();
    await waitFor('the node to be marked Ready=Unknown', async () => ((await readyStatus()) === 'Unknown' ? true : undefined), (grace + 30) * 1000, 1000);
    const after = (Date.now() - down) / 1000;
    process.stdout.write(`node marked NotReady ${after.toFixed(1)}s after ORCA was killed (grace ${grace}s)\n`);
    expect(after).toBeGreaterThan(grace - 11);
    await node.start();
    await waitFor('the node to be Ready again', async () => ((await readyStatus()) === 'True' ? true : undefined), 30_000, 500);
    await waitForPhase(ns, 'long-0', 'Running');
    expect(await node.orca.stop('SIGTERM')).toBe(0);
  });
});
