// BudgetSource, BudgetStatusWriter and BudgetEventRecorder over client-node: a list+watch of the
// BurstBudgets of every namespace (orca.research/v1alpha1), kept running by watchedList; status
// replaced whole through the status subresource; Events on the budget. When the CRD is not installed the list answers 404: that
// is logged once, as an error that names the fix, and the list is retried with back-off until it
// answers (`synced` waits for it).
import {
  CustomObjectsApi, ListWatch, PatchStrategy, Watch, setHeaderOptions,
  type KubeConfig, type KubernetesListObject, type KubernetesObject,
} from '@kubernetes/client-node';
import type { BudgetEventRecorder, BudgetSource, BudgetStatusWriter, BurstBudgetObject } from '../ports/budgets.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../observability/logger.js';
import { KubeApiError, describeError, statusOf } from './client.js';
import { createEventPoster } from './events.js';
import { asJson, watchedList } from './watched-list.js';

const GROUP = 'orca.research';
const VERSION = 'v1alpha1';
const PLURAL = 'burstbudgets';
const API_VERSION = `${GROUP}/${VERSION}`;
/** Where the CRD is, for the error that says to install it. */
export const BURST_BUDGET_CRD_FILE = 'deploy/crds/burstbudgets.orca.research.yaml';

/**
 * A JSON patch that `add`s /status replaces it whole, or creates it on a new budget (RFC 6902: add
 * on an existing member replaces it). A merge patch of {status} would keep fields the new status
 * leaves out (a Total budget's periodEnd, say); lists would be replaced either way.
 */
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export interface BudgetApiDeps {
  readonly kc: KubeConfig;
  readonly log: Logger;
  /** Waits between restarts and stamps Events; real time when not given. */
  readonly clock?: Clock;
  /** Called on every restart of the watch (a metric counts them). */
  readonly onRestart?: () => void;
}

/** A BurstBudget as the API sends it (plain JSON). */
interface BurstBudgetJson extends KubernetesObject {
  readonly spec?: unknown;
  readonly status?: unknown;
}

function toObject(o: BurstBudgetJson): BurstBudgetObject {
  const meta = o.metadata ?? {};
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    ...(meta.generation === undefined ? {} : { generation: meta.generation }),
    spec: o.spec,
    ...(o.status === undefined ? {} : { status: o.status }),
  };
}

/**
 * Logs each failed session: a missing CRD (404) as one error naming the fix, then quietly (debug)
 * until a list has loaded again; any other failure at warn, as the pod informer does.
 */
function failureLogger(log: Logger): (err: unknown, failures: number) => void {
  let missingReported = false;
  return (err, failures) => {
    // The first failure in a row comes after a list that loaded (or at the start).
    if (failures === 1) missingReported = false;
    const fields = { error: describeError(err), attempt: failures };
    if (statusOf(err) !== 404) {
      log.warn(fields, 'burst budget watch failed; restarting');
    } else if (missingReported) {
      log.debug(fields, 'BurstBudget CRD still not installed; retrying');
    } else {
      missingReported = true;
      log.error({ ...fields, fix: `kubectl apply -f ${BURST_BUDGET_CRD_FILE}` },
        `the BurstBudget CRD (burstbudgets.orca.research) is not installed: install it with kubectl apply -f ${BURST_BUDGET_CRD_FILE}; retrying until it is`);
    }
  };
}

/**
 * Every BurstBudget once (of one namespace, or of all): what `orca cost` and `orca share` read.
 * Rejects with a KubeApiError (404 when the CRD is not installed, 403 without `list` on them).
 */
export async function listBudgets(kc: KubeConfig, namespace?: string): Promise<BurstBudgetObject[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const where = { group: GROUP, version: VERSION, plural: PLURAL };
  try {
    const answer: unknown = namespace === undefined ? await custom.listClusterCustomObject(where) : await custom.listNamespacedCustomObject({ ...where, namespace });
    return asJson(answer as KubernetesListObject<BurstBudgetJson>).items.map(toObject);
  } catch (e) {
    throw new KubeApiError('list burst budgets', statusOf(e), e);
  }
}

export function createBudgetApi(deps: BudgetApiDeps): BudgetSource & BudgetStatusWriter & BudgetEventRecorder {
  const custom = deps.kc.makeApiClient(CustomObjectsApi);
  const log = deps.log.child({ component: 'budgets' });
  const now = (): Date => deps.clock?.now() ?? new Date();
  const list = async (): Promise<KubernetesListObject<BurstBudgetJson>> =>
    asJson(await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }) as KubernetesListObject<BurstBudgetJson>);
  const lw = new ListWatch<BurstBudgetJson>(`/apis/${API_VERSION}/${PLURAL}`, new Watch(deps.kc), list, false);
  const watched = watchedList({ lw, clock: deps.clock, onRestart: deps.onRestart, onFailure: failureLogger(log) });
  const post = createEventPoster({ kc: deps.kc, log, now });
  return {
    list: () => lw.list().map(toObject),
    onChange: (h) => { watched.onChange((namespace, name) => { h(`${namespace}/${name}`); }); },
    synced: watched.synced,
    run: (signal) => watched.run(signal),
    async writeStatus(namespace, name, status) {
      const body = [{ op: 'add', path: '/status', value: status }];
      try {
        await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body }, jsonPatch);
      } catch (e) {
        throw new KubeApiError('patch burst budget status', statusOf(e), e);
      }
    },
    budgetEvent(budget, type, reason, message) {
      post({ apiVersion: API_VERSION, kind: 'BurstBudget', namespace: budget.namespace, name: budget.name, uid: budget.uid }, type, reason, message);
    },
  };
}
