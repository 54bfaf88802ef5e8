// The EC2 provider under budgets: a plan enters a launch batch only when the ledger reserved its
// money; a pod that does not fit waits (Pending, orca.research/Budget=False with the figures and an
// Event) and launches once an instance ends; a pod that may never run is rejected; a deleted waiting
// pod leaves the queue. The real ledger over the fake BurstBudget API; the provider over fakes.
import { afterEach, describe, expect, it } from 'vitest';
import { env, FakeSignals, pod, stopProviders } from '../../test/fakes/ec2-env.js';
import { agentTags } from '../../test/fakes/builders.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
import { startLedger } from '../../test/fakes/budget-api.js';
import { refOf } from '../domain/pod.js';

afterEach(stopProviders);

/** p5.48xlarge at $55.04/h for at most an hour: a quote of $55.04. */
const hourOfP5 = { 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/max-lifetime': '1h' };

async function setup(limitUSD: number, spec: Record<string, unknown> = {}) {
  const l = await startLedger({ budgets: [{ namespace: 'lab', name: 'gpu', spec: { limitUSD, ...spec } }, { namespace: 'physics', name: 'gpu', spec: { limitUSD: 1000 } }] });
  const signals = new FakeSignals();
  const e = env({}, new FakeLauncher(), l.clock, { budgets: l.ledger, signals });
  return { ...l, e, signals };
}

describe('the EC2 provider under budgets', () => {
  it('launches what fits, keeps the next pod Pending with the reason and the figures, and launches it when the first instance ends', async () => {
    const { e } = await setup(60);
    const first = pod(hourOfP5, 'uid-1', 'train-0');
    const second = pod(hourOfP5, 'uid-2', 'train-1');
    await e.create(first);
    await e.create(second);
    expect(e.launcher.specs).toHaveLength(1);
    const held = await e.provider.getPodStatus(refOf(second));
    expect(held).toMatchObject({ phase: 'Pending', budget: { ok: false, reason: 'NamespaceBudgetExceeded' } });
    expect(held?.budget?.message).toMatch(/budget lab\/gpu: spent \$0\.00 \+ reserved \$55\.04 \+ this launch's quote \$55\.04 \(\$55\.04\/h for 1 h\) exceeds the limit \$60\.00/);
    expect(e.events.events.some((ev) => ev.reason === 'NamespaceBudgetExceeded' && ev.key === 'lab/train-1')).toBe(true);
    expect(await e.provider.getPodStatus(refOf(first))).toMatchObject({ budget: { ok: true, reason: 'Reserved' } });
    // The first instance ends: its money goes back at the next poll and the waiting pod launches.
    e.launcher.setState('i-0001', 'terminated');
    await e.provider.poll();
    await new Promise((r) => setTimeout(r, 0));
    await e.flush();
    expect(e.launcher.specs).toHaveLength(2);
    expect(e.events.events.some((ev) => ev.reason === 'BudgetReserved' && ev.key === 'lab/train-1')).toBe(true);
  });

  it('rejects a pod whose quote alone exceeds the budget, and one charging a budget that does not allow it', async () => {
    const { e } = await setup(50);
    await e.create(pod(hourOfP5, 'uid-1', 'train-0'));
    expect(await e.provider.getPodStatus(refOf(pod(hourOfP5, 'uid-1', 'train-0')))).toMatchObject({ phase: 'Failed', reason: 'QuoteExceedsBudget' });
    const stranger = pod({ ...hourOfP5, 'orca.research/budget-namespace': 'physics' }, 'uid-2', 'train-1');
    await e.create(stranger);
    expect(await e.provider.getPodStatus(refOf(stranger))).toMatchObject({ phase: 'Failed', reason: 'BudgetChargeNotAllowed' });
    expect(e.launcher.specs).toHaveLength(0);
  });

  it('takes a deleted waiting pod out of the queue, so it never launches', async () => {
    const { e, ledger } = await setup(60);
    await e.create(pod(hourOfP5, 'uid-1', 'train-0'));
    const waiting = pod(hourOfP5, 'uid-2', 'train-1');
    await e.create(waiting);
    expect(ledger.pendingByReason().get('NamespaceBudgetExceeded')).toBe(1);
    await e.provider.deletePod(refOf(waiting));
    expect(ledger.pendingByReason().size).toBe(0);
    e.launcher.setState('i-0001', 'terminated');
    await e.provider.poll();
    await new Promise((r) => setTimeout(r, 0));
    await e.flush();
    expect(e.launcher.specs).toHaveLength(1);
  });

  it('stops a running pod gracefully, reason BudgetExhausted, when its HoldAndDrain budget has spent its whole limit', async () => {
    const { e, signals, clock } = await setup(55.04, { onLimit: 'HoldAndDrain' });
    const p = pod(hourOfP5, 'uid-1', 'train-0');
    await e.create(p);
    e.launcher.setState('i-0001', 'running');
    await e.launcher.tag(['i-0001'], agentTags.running);
    await e.provider.poll();
    expect(signals.stopped).toEqual([]);
    await clock.advance(61 * 60_000);
    await e.provider.poll();
    expect(signals.stopped).toEqual(['i-0001']);
    expect(e.events.events.some((ev) => ev.reason === 'BudgetExhausted' && /spent its whole limit of \$55\.04/.test(ev.message))).toBe(true);
    // The agent reports its containers stopped: the pod ends with the reason, and its instance is terminated.
    await e.launcher.tag(['i-0001'], agentTags.exited(143));
    await e.provider.poll();
    await e.flush();
    expect(await e.provider.getPodStatus(refOf(p))).toMatchObject({ phase: 'Failed', reason: 'BudgetExhausted' });
    expect(e.launcher.terminated).toEqual(['i-0001']);
  });

  it('settles an ended spot instance at its life priced from the pool\'s history, not the price sampled at each poll', async () => {
    const l = await startLedger({ budgets: [{ namespace: 'lab', name: 'gpu', spec: { limitUSD: 1000 } }] });
    const asked: string[] = [];
    const spotHistory = {
      history: ({ type, zone, from, to }: { type: string; zone: string; from: Date; to: Date }) => {
        asked.push(`${type} ${zone} ${from.toISOString()} ${to.toISOString()}`);
        // $30/h sampled (the fake spot source); the history says $12/h until 30 min in, then $20/h.
        return Promise.resolve([{ at: from.getTime() - 60_000, usdPerHour: 12 }, { at: from.getTime() + 30 * 60_000, usdPerHour: 20 }]);
      },
    };
    const e = env({}, new FakeLauncher(), l.clock, { budgets: l.ledger, spotHistory });
    await e.create(pod({ ...hourOfP5, 'orca.research/launch-type': 'spot' }, 'uid-1', 'train-0'));
    e.launcher.setState('i-0001', 'running');
    await e.launcher.tag(['i-0001'], agentTags.running);
    await e.provider.poll();
    await l.clock.advance(60 * 60_000);
    e.launcher.setState('i-0001', 'terminated');
    await e.provider.poll();
    expect(asked).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 0));
    await e.provider.poll();
    // 30 min at $12/h + 30 min at $20/h = $16.00.
    const book = l.ledger.entries.get('lab/gpu')?.book;
    expect(book?.usage).toMatchObject({ settled: 16_000_000, reserved: 0, runningInstances: 0 });
    expect(asked[0]).toMatch(/^p5\.48xlarge us-east-1a \S+ \S+$/);
  });
});
