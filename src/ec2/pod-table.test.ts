// The pod table: explicit stages, one notification per status change, listings taken in (pods
// found through tags after a restart, instances gone from EC2's listings), and nothing kept of a
// pod that is done.
import { describe, expect, it } from 'vitest';
import type { PodKey } from '../domain/pod.js';
import { observedFor as tagged, refOf, t0 } from '../../test/fakes/builders.js';
import { PodTable, stageMoves } from './pod-table.js';

const ref = refOf();
const shape = { containers: [{ name: 'main', image: 'pytorch' }], restartPolicy: 'Never' as const, debug: false };

function table() {
  const notified: PodKey[] = [];
  return { t: new PodTable((k) => notified.push(k), { missingPolls: 2, visibleMs: 60_000 }), notified };
}

describe('PodTable', () => {
  it('moves a pod only along the allowed stages, and never out of final', () => {
    const { t } = table();
    t.add(ref, shape);
    t.setLaunch(ref.uid, { state: 'failed', reason: 'QuotaExceeded', message: 'no' });
    expect(t.pod(ref.uid)?.stage).toBe('final');
    t.setLaunch(ref.uid, { state: 'queued', message: 'again' });
    t.requestStop(ref.uid, t0);
    expect(t.pod(ref.uid)).toMatchObject({ stage: 'final', launch: { state: 'failed' } });
    expect(stageMoves.final).toEqual(['final']);
  });

  it('notifies once per status change, not per transition', () => {
    const { t, notified } = table();
    t.add(ref, shape);
    t.setLaunch(ref.uid, { state: 'queued', message: 'waiting' });
    t.setLaunch(ref.uid, { state: 'queued', message: 'waiting' });
    expect(notified).toEqual([ref.key, ref.key]);
    expect(t.assign(ref.uid, tagged('i-1'))).toBe(true);
    expect(t.pod(ref.uid)?.stage).toBe('assigned');
    expect(notified).toHaveLength(3);
  });

  it('gives a launching pod the instance a poll already linked it to (listed before RunInstances answered), and no other', () => {
    const { t } = table();
    t.add(ref, shape);
    t.launching(ref.uid);
    // The poll lists the new instance, tagged with the pod, before the launch call returns.
    t.observe([tagged('i-1')], t0, false);
    expect(t.pod(ref.uid)).toMatchObject({ stage: 'assigned', instanceId: 'i-1' });
    expect(t.assign(ref.uid, tagged('i-1'))).toBe(true);
    expect(t.pod(ref.uid)).toMatchObject({ stage: 'assigned', instanceId: 'i-1' });
    expect(t.assign(ref.uid, tagged('i-2'))).toBe(false);
  });

  it('refuses an instance for a pod deleted while it launched', () => {
    const { t } = table();
    t.add(ref, shape);
    t.launching(ref.uid);
    t.markDeleting(ref.uid);
    expect(t.pod(ref.uid)?.stage).toBe('final');
    expect(t.assign(ref.uid, tagged('i-1'))).toBe(false);
  });

  it('after a restart finds pods through their tags, the live instance before a gone one of the same pod', () => {
    const { t } = table();
    const listing = [tagged('i-old', 'uid-1', { state: 'terminated' }), tagged('i-new')];
    t.observe(listing, t0, true);
    t.observe(listing, t0, false);
    expect(t.pod('uid-1')).toMatchObject({ ref, stage: 'assigned', instanceId: 'i-new', containers: [] });
    expect(t.instances.get('i-old')).toBeUndefined();
  });

  it('takes an unknown gone instance in only at the first listing, so a forgotten pod stays forgotten', () => {
    const { t } = table();
    t.observe([], t0, true);
    t.observe([tagged('i-1', 'uid-9', { state: 'terminated' })], t0, false);
    expect(t.size).toBe(0);
    expect(t.instances.size).toBe(0);
  });

  it('gives a waiting pod the live instance that carries its tags, never one it was relaunched from', () => {
    const { t } = table();
    t.add(ref, shape);
    t.observe([tagged('i-1')], t0, false);
    expect(t.pod(ref.uid)?.instanceId).toBe('i-1');
    expect(t.relaunch(ref.uid, 'relaunching')).toBe('i-1');
    t.observe([tagged('i-1')], t0, false);
    expect(t.pod(ref.uid)).toMatchObject({ stage: 'queued', generation: 1 });
    expect(t.pod(ref.uid)?.instanceId).toBeUndefined();
  });

  it('takes an instance missing from listings as gone, after enough listings and once it is old enough', () => {
    const { t } = table();
    t.add(ref, shape);
    t.assign(ref.uid, tagged('i-1', 'uid-1', { launchTime: new Date(t0).toISOString() }));
    t.observe([], t0 + 1000, false);
    t.observe([], t0 + 2000, false);
    expect(t.instanceOf(ref.uid)?.observed.state).toBe('running');
    t.observe([], t0 + 61_000, false);
    expect(t.instanceOf(ref.uid)?.observed.state).toBe('terminated');
    expect(t.pod(ref.uid)?.stage).toBe('final');
  });

  it('forgets a deleted pod whose instance is gone at the second listing that finds it done, with its instance', () => {
    const { t } = table();
    t.add(ref, shape);
    t.assign(ref.uid, tagged('i-1'));
    t.markDeleting(ref.uid);
    t.instances.requestTerminate('i-1', 'its pod was deleted', t0);
    expect(t.forgetDone()).toEqual([]);
    t.terminated(['i-1']);
    t.observe([tagged('i-1', 'uid-1', { state: 'shutting-down' })], t0, false);
    expect(t.forgetDone()).toEqual([]);
    expect(t.forgetDone()).toEqual([ref]);
    expect(t.size).toBe(0);
    expect(t.instances.size).toBe(0);
  });

  it('keeps a finished pod that is not deleted (its status stays for the API)', () => {
    const { t } = table();
    t.add(ref, shape);
    t.assign(ref.uid, tagged('i-1'));
    t.finish(ref.uid, { phase: 'Succeeded', containerStatuses: [] });
    t.observe([tagged('i-1', 'uid-1', { state: 'terminated' })], t0, false);
    t.forgetDone();
    t.forgetDone();
    expect(t.pod(ref.uid)?.stage).toBe('final');
  });

  it('keeps a stop request on a pod already final without leaving final', () => {
    const { t } = table();
    t.add(ref, shape);
    t.assign(ref.uid, tagged('i-1'));
    t.finish(ref.uid, { phase: 'Failed', reason: 'SpotInterrupted', containerStatuses: [] });
    t.requestStop(ref.uid, t0);
    expect(t.pod(ref.uid)).toMatchObject({ stage: 'final', stopRequestedAt: t0 });
  });
});
