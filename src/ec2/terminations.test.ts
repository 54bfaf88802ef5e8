import { describe, expect, it, vi } from 'vitest';
import { decodeInstance, TAG } from '../agent-protocol/tags.js';
import { TerminateRefusedError } from '../domain/errors.js';
import type { Instance } from '../domain/instance.js';
import { createLogger } from '../observability/logger.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
import { PodTable } from './pod-table.js';
import { Terminations } from './terminations.js';

const windowMs = 1000;

function instance(id: string, protect = false, state: Instance['state'] = 'running'): Instance {
  return {
    id, type: 'p5.48xlarge', zone: 'us-east-1a', state, lifecycle: 'on-demand', launchTime: '2026-11-23T12:00:00Z',
    tags: { [TAG.cluster]: 'lab', [TAG.node]: 'orca-aws', ...(protect ? { [TAG.terminationProtection]: 'true' } : {}) },
  };
}

/** EC2 refusing every call that holds `refusedId`, without saying which instance it refused. */
class UnnamedRefusals extends FakeLauncher {
  constructor(readonly refusedId: string) {
    super();
  }

  override terminate(ids: readonly string[]): Promise<void> {
    if (!ids.includes(this.refusedId)) return super.terminate(ids);
    this.terminateCalls.push([...ids]);
    return Promise.reject(new TerminateRefusedError('refused', [], 'An instance cannot be terminated now'));
  }
}

/** Lifting the protection fails for the ids in `failing`. */
class FailingUnprotect extends FakeLauncher {
  readonly failing = new Set<string>();

  override unprotect(id: string): Promise<void> {
    if (this.failing.has(id)) return Promise.reject(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    return super.unprotect(id);
  }
}

/** TerminateInstances never answers until its signal aborts. */
class HangingTerminate extends FakeLauncher {
  signal: AbortSignal | undefined;

  override terminate(ids: readonly string[], signal?: AbortSignal): Promise<void> {
    this.terminateCalls.push([...ids]);
    this.signal = signal;
    return new Promise((_resolve, reject) => { signal?.addEventListener('abort', () => { reject(new Error('aborted')); }, { once: true }); });
  }
}

function setup<L extends FakeLauncher>(launcher: L, known: readonly Instance[], maxBatch = 1000) {
  const clock = new FakeClock();
  const table = new PodTable(() => undefined);
  table.instances.launched(known.map(decodeInstance));
  const terminations = new Terminations({ table, launcher, clock, log: createLogger('silent'), windowMs, maxBatch });
  const state = (id: string): string | undefined => table.instances.get(id)?.observed.state;
  const due = (): string[] => table.instances.dueTerminations().map((r) => r.observed.id);
  const requestAll = (ids: readonly string[]): void => { for (const id of ids) terminations.request(id, 'its pod finished'); };
  return { clock, table, launcher, terminations, state, due, requestAll };
}

const throttled = (): Error => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });

describe('Terminations', () => {
  it('sends every request of one window in a single TerminateInstances call when the window ends', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1'), instance('i-2')]);
    t.terminations.request('i-1', 'its pod finished');
    await t.clock.advance(500);
    t.terminations.request('i-2', 'its pod was deleted');
    await t.clock.advance(499);
    expect(t.launcher.terminateCalls).toEqual([]);
    expect(t.terminations.pending).toBe(2);
    await t.clock.advance(1);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2']]);
    expect(t.terminations.pending).toBe(0);
  });

  it('puts at most maxBatch instances in one call', async () => {
    const ids = ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'];
    const t = setup(new FakeLauncher(), ids.map((id) => instance(id)), 2);
    t.requestAll(ids);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2'], ['i-3', 'i-4'], ['i-5']]);
    expect(t.due()).toEqual([]);
  });

  it('sends an instance asked for twice in one window only once', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1'), instance('i-2')]);
    t.requestAll(['i-1', 'i-2', 'i-1']);
    t.terminations.requestDue();
    expect(t.terminations.pending).toBe(2);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2']]);
  });

  it('sends nothing for an instance it has no record of', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1')]);
    t.terminations.request('i-9', 'its pod finished');
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([]);
    expect(t.terminations.pending).toBe(0);
  });

  it('marks accepted instances shutting-down so that they are no longer due', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1'), instance('i-2')]);
    t.requestAll(['i-1', 'i-2']);
    expect(t.due()).toEqual(['i-1', 'i-2']);
    await t.terminations.flush();
    expect([t.state('i-1'), t.state('i-2')]).toEqual(['shutting-down', 'shutting-down']);
    expect(t.due()).toEqual([]);
    t.terminations.requestDue();
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toHaveLength(1);
  });

  it('sends the call again without the instance EC2 refused and asks for that one again at the next poll', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1'), instance('i-2'), instance('i-3')]);
    t.launcher.terminateRefused.add('i-2');
    t.requestAll(['i-1', 'i-2', 'i-3']);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2', 'i-3'], ['i-1', 'i-3']]);
    expect([t.state('i-1'), t.state('i-2'), t.state('i-3')]).toEqual(['shutting-down', 'running', 'shutting-down']);
    expect(t.due()).toEqual(['i-2']);
    expect(t.terminations.pending).toBe(0);

    t.launcher.terminateRefused.delete('i-2');
    t.terminations.requestDue();
    await t.terminations.flush();
    expect(t.launcher.terminateCalls.at(-1)).toEqual(['i-2']);
    expect(t.state('i-2')).toBe('shutting-down');
    expect(t.due()).toEqual([]);
  });

  it('does not ask again for a refused instance once the listing shows it gone', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1'), instance('i-2')]);
    t.launcher.terminateRefused.add('i-2');
    t.requestAll(['i-1', 'i-2']);
    await t.terminations.flush();
    t.table.observe([decodeInstance(instance('i-2', false, 'terminated'))], t.clock.now().getTime(), false);
    t.terminations.requestDue();
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2'], ['i-1']]);
    expect(t.due()).toEqual([]);
  });

  it('splits a refusal that names no instance in halves until the refused instance is alone', async () => {
    const ids = ['i-1', 'i-2', 'i-3', 'i-4'];
    const t = setup(new UnnamedRefusals('i-3'), ids.map((id) => instance(id)));
    t.requestAll(ids);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2', 'i-3', 'i-4'], ['i-1', 'i-2'], ['i-3', 'i-4'], ['i-3'], ['i-4']]);
    expect(ids.map(t.state)).toEqual(['shutting-down', 'shutting-down', 'running', 'shutting-down']);
    expect(t.due()).toEqual(['i-3']);
  });

  it('lifts the protection of an instance EC2 refused as protected and terminates the call once more', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1'), instance('i-2')]);
    t.launcher.protectedIds.add('i-2');
    t.requestAll(['i-1', 'i-2']);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2'], ['i-1', 'i-2']]);
    expect(t.launcher.unprotected).toEqual(['i-2']);
    expect(t.launcher.terminated).toEqual(['i-1', 'i-2']);
    expect(t.due()).toEqual([]);
  });

  it('terminates the others when the protection EC2 complained of cannot be lifted, and leaves that one due', async () => {
    const t = setup(new FailingUnprotect(), [instance('i-1'), instance('i-2')]);
    t.launcher.protectedIds.add('i-2');
    t.launcher.failing.add('i-2');
    t.requestAll(['i-1', 'i-2']);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2'], ['i-1']]);
    expect(t.due()).toEqual(['i-2']);
  });

  it('lifts the protection its record shows before the call, so EC2 accepts the first call', async () => {
    const t = setup(new FakeLauncher(), [instance('i-1', true), instance('i-2')]);
    t.launcher.protectedIds.add('i-1');
    t.requestAll(['i-1', 'i-2']);
    await t.terminations.flush();
    expect(t.launcher.unprotected).toEqual(['i-1']);
    expect(t.launcher.terminateCalls).toEqual([['i-1', 'i-2']]);
    expect(t.due()).toEqual([]);
  });

  it('leaves out an instance whose recorded protection could not be lifted and sends it at a later poll', async () => {
    const t = setup(new FailingUnprotect(), [instance('i-1', true), instance('i-2')]);
    t.launcher.protectedIds.add('i-1');
    t.launcher.failing.add('i-1');
    t.requestAll(['i-1', 'i-2']);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-2']]);
    expect(t.due()).toEqual(['i-1']);

    t.launcher.failing.delete('i-1');
    t.terminations.requestDue();
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([['i-2'], ['i-1']]);
    expect(t.due()).toEqual([]);
  });

  it('gives up the whole batch on throttling without splitting it, and sends it again at the next poll', async () => {
    const ids = ['i-1', 'i-2', 'i-3'];
    const t = setup(new FakeLauncher(), ids.map((id) => instance(id)));
    t.launcher.terminateFailures.push(throttled());
    t.requestAll(ids);
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([ids]);
    expect(ids.map(t.state)).toEqual(['running', 'running', 'running']);
    expect(t.due()).toEqual(ids);
    expect(t.terminations.pending).toBe(0);

    t.terminations.requestDue();
    await t.terminations.flush();
    expect(t.launcher.terminateCalls).toEqual([ids, ids]);
    expect(t.due()).toEqual([]);
  });

  it('close aborts the call in flight and leaves its instances due', async () => {
    const t = setup(new HangingTerminate(), [instance('i-1')]);
    t.terminations.request('i-1', 'its pod finished');
    await t.clock.advance(windowMs);
    await vi.waitFor(() => { expect(t.launcher.terminateCalls).toEqual([['i-1']]); }, { timeout: 2000, interval: 5 });
    expect(t.launcher.signal?.aborted).toBe(false);
    await t.terminations.close();
    expect(t.launcher.signal?.aborted).toBe(true);
    expect(t.terminations.pending).toBe(0);
    expect(t.due()).toEqual(['i-1']);
  });
});
