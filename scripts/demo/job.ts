// Waiting for what the demo started: the virtual node Ready, then the quickstart Job's pod through
// its phases to the Job's end. Every wait checks that the supervisor still runs (ORCA gone is a
// failure at once, with its last log lines) and gives up with a clear message at its deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { mustKubectl, type Kubectl } from './bed.js';
import { demoNamespace, demoNode } from './orca-config.js';
import type { Progress } from './progress.js';

export const quickstartFile = join(repoRoot, 'examples', 'quickstart-job.yaml');
export const quickstartJob = 'quickstart';

export interface Watch {
  readonly kubectl: Kubectl;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** Throws when the supervisor (and so ORCA) is gone. */
  readonly check: () => void;
}

async function poll<T>(w: Watch, what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    w.signal.throwIfAborted();
    w.check();
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(1000);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

async function json<T>(kubectl: Kubectl, args: readonly string[]): Promise<T | undefined> {
  const r = await kubectl([...args, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) as T : undefined;
}

interface Conditioned { readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string }[] } }

export async function waitNodeReady(w: Watch, timeoutMs: number): Promise<void> {
  await poll(w, `node ${demoNode} to be Ready`, timeoutMs, async () => {
    const node = await json<Conditioned>(w.kubectl, ['get', 'node', demoNode]);
    return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true ? true : undefined;
  });
  w.progress.step(`virtual node ${demoNode} is Ready`);
}

interface PodList { readonly items: readonly { readonly metadata: { readonly name: string }; readonly status?: { readonly phase?: string } }[] }
interface JobStatus { readonly status?: { readonly succeeded?: number; readonly failed?: number } }

export interface JobOutcome { readonly pod: string; readonly succeeded: boolean }

async function podNow(kubectl: Kubectl): Promise<{ name: string; phase: string } | undefined> {
  const pods = await json<PodList>(kubectl, ['get', 'pods', '-n', demoNamespace, '-l', `job-name=${quickstartJob}`]);
  const pod = pods?.items[0];
  return pod === undefined ? undefined : { name: pod.metadata.name, phase: pod.status?.phase ?? 'Pending' };
}

/** The Job's outcome once it has one: succeeded, failed, or undefined while it runs. */
async function jobEnded(kubectl: Kubectl): Promise<boolean | undefined> {
  const status = (await json<JobStatus>(kubectl, ['get', 'job', quickstartJob, '-n', demoNamespace]))?.status;
  if ((status?.succeeded ?? 0) > 0) return true;
  return (status?.failed ?? 0) > 0 ? false : undefined;
}

/** Applies the quickstart Job and waits for it to end; says each phase its pod goes through. */
export async function runQuickstart(w: Watch, timeoutMs: number): Promise<JobOutcome> {
  await mustKubectl(w.kubectl, ['apply', '-f', quickstartFile], 'applying examples/quickstart-job.yaml');
  w.progress.step(`applied examples/quickstart-job.yaml: Job ${demoNamespace}/${quickstartJob}, one pod on a g6.xlarge with 1 nvidia.com/gpu`);
  let said = '';
  const waited = poll(w, `Job ${demoNamespace}/${quickstartJob} to complete`, timeoutMs, async () => {
    // The Job first: once it counts its pod, the pod read after it shows its final phase.
    const ended = await jobEnded(w.kubectl);
    const pod = await podNow(w.kubectl);
    if (pod === undefined) return undefined;
    const now = `pod ${pod.name}: ${pod.phase}`;
    if (now !== said) w.progress.step(now);
    said = now;
    return ended === undefined ? undefined : { pod: pod.name, succeeded: ended };
  });
  return waited.catch(async (e: unknown) => {
    if (w.signal.aborted) throw e;
    // Why it is stuck: the pod's status and the namespace's Events.
    const pods = await w.kubectl(['get', 'pods', '-n', demoNamespace, '-o', 'wide']);
    const events = await w.kubectl(['get', 'events', '-n', demoNamespace]);
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${pods.stdout.trimEnd()}\n${events.stdout.trimEnd()}`, { cause: e });
  });
}
