// The idle guard of the EC2 provider: after every poll, each running pod's accelerators, as its
// agent last measured them, feed its idle track (policy/idle-guard.ts). Idle past the warning time:
// a Warning Event (AcceleratorsIdle). Idle past the pod's orca.research/idle-timeout, else its
// budget's idleTimeout: the instance is terminated and the pod fails with IdleTimeout.
import { isLive } from '../domain/instance.js';
import { parsePodKey } from '../domain/pod.js';
import { followIdle, idleMessage, type IdleSettings, type IdleTrack } from '../policy/idle-guard.js';
import type { BudgetGate } from '../ports/budget-gate.js';
import type { EventRecorder } from '../ports/kube.js';
import type { PodRecord, PodTable } from './pod-table.js';
import type { Terminations } from './terminations.js';

export interface IdleGuardDeps {
  readonly table: PodTable;
  readonly terminations: Pick<Terminations, 'request'>;
  readonly events: EventRecorder;
  readonly settings: Omit<IdleSettings, 'stopAfterMs'>;
  readonly budgets?: Pick<BudgetGate, 'idleTimeoutSeconds'>;
  readonly podFor: (p: PodRecord) => Parameters<EventRecorder['podEvent']>[0];
}

function stopAfterMs(p: PodRecord, budgets: IdleGuardDeps['budgets']): number | undefined {
  const own = p.hints?.idleTimeoutSeconds;
  if (own !== undefined) return own * 1000;
  const chargeTo = p.hints?.budgetNamespace ?? parsePodKey(p.ref.key).namespace;
  const fromBudget = budgets?.idleTimeoutSeconds(chargeTo);
  return fromBudget === undefined ? undefined : fromBudget * 1000;
}

/** The pod's live instance id when its idleness is to be followed: it runs, is measured, and is not ending. */
function watchedInstance(p: PodRecord, table: PodTable): string | undefined {
  const i = table.instanceOf(p.ref.uid)?.observed;
  const ending = p.deleting || p.final !== undefined || p.idledOut === true;
  return p.usage === undefined || i === undefined || !isLive(i) || ending ? undefined : i.id;
}

/** Follows one pod's idleness; warns or stops it. */
export function guardIdle(p: PodRecord, d: IdleGuardDeps): void {
  const id = watchedInstance(p, d.table);
  if (id === undefined || p.usage === undefined) return;
  const stop = stopAfterMs(p, d.budgets);
  const { track, action } = followIdle(p.idle, { at: p.usage.measuredAt, accelerators: p.usage.accelerators }, { ...d.settings, ...(stop === undefined ? {} : { stopAfterMs: stop }) });
  if (action !== 'stop') {
    if (action === 'warn') d.events.podEvent(d.podFor(p), 'Warning', 'AcceleratorsIdle', idleMessage('warn', idleMsOf(track), stop));
    if (track !== p.idle) d.table.setIdle(p.ref.uid, track);
    return;
  }
  d.terminations.request(id, 'its accelerators were idle past the pod\'s idle timeout');
  d.events.podEvent(d.podFor(p), 'Warning', 'IdleTimeout', `instance ${id} terminated: ${idleMessage('stop', idleMsOf(track), stop)}`);
  d.table.setIdle(p.ref.uid, track, true);
}

const idleMsOf = (t: IdleTrack | undefined): number => (t?.idleSince === undefined ? 0 : t.measuredAt - t.idleSince);
