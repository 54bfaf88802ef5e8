// GET /containerLogs/{ns}/{pod}/{container}: the query as a kubelet reads it (log-options.ts), the
// run as a kubelet picks it (log-target.ts), then the provider's lines written out as they come,
// with the kubelet's timestamps and limitBytes. A follow ends when the run is over (its pod's
// status says so, or the pod is gone) and its last lines are out, or when the client goes away.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { podKey, type Pod, type PodKey } from '../domain/pod.js';
import type { PodSource } from '../ports/kube.js';
import type { LogLine, LogOptions, LogsCapable, LogTarget } from '../provider/provider.js';
import { kubeletTimestamp, parseLogOptions } from './log-options.js';
import { logRun, runOver, type LogRun } from './log-target.js';
import { abortedOnClose, plainText } from './replies.js';

export interface LogsRouteDeps {
  readonly pods: Pick<PodSource, 'get'>;
  readonly logs: LogsCapable | undefined;
  readonly now: () => Date;
}

interface Params { readonly namespace: string; readonly pod: string; readonly container: string }

/** When the run stopped writing: its finish time, else the first time ORCA saw it over. */
function endOf(d: LogsRouteDeps, key: PodKey, target: LogTarget, run: LogRun): () => Date | undefined {
  let over: Date | undefined = run.running ? undefined : new Date(run.finishedAt ?? d.now().getTime());
  return () => {
    if (over !== undefined) return over;
    const now = runOver(d.pods.get(key), target.ref.uid, target.container, target.run);
    if (now.over) over = new Date(now.finishedAt ?? d.now().getTime());
    return over;
  };
}

/** The lines as the response's bytes: each with its newline (and time), cut at limitBytes. */
async function* body(batches: AsyncIterator<readonly LogLine[]>, first: readonly LogLine[], o: LogOptions, stop: AbortController): AsyncGenerator<Buffer> {
  let left = o.limitBytes ?? Number.POSITIVE_INFINITY;
  try {
    for (let batch: readonly LogLine[] | undefined = first; batch !== undefined; batch = await next(batches)) {
      if (batch.length === 0) continue;
      const bytes = Buffer.from(batch.map((l) => (o.timestamps ? `${kubeletTimestamp(l.at)} ${l.text}\n` : `${l.text}\n`)).join(''));
      if (bytes.length >= left) {
        yield bytes.subarray(0, left);
        return;
      }
      left -= bytes.length;
      yield bytes;
    }
  } finally {
    stop.abort();
    await batches.return?.();
  }
}

async function next(batches: AsyncIterator<readonly LogLine[]>): Promise<readonly LogLine[] | undefined> {
  const r = await batches.next();
  return r.done === true ? undefined : r.value;
}

export function containerLogsHandler(d: LogsRouteDeps) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const p = req.params as Params;
    const options = parseLogOptions(req.query as Record<string, string>, d.now());
    if (!options.ok) return plainText(reply, 400, options.error);
    const key = podKey(p.namespace, p.pod);
    const pod: Pod | undefined = d.pods.get(key);
    const run = logRun(pod, p.pod, p.container, options.value.previous);
    if (!run.ok) return plainText(reply, run.error.status, run.error.message);
    if (d.logs === undefined || pod === undefined) return plainText(reply, 501, 'this node\'s provider keeps no container logs');
    const target: LogTarget = { ref: { key, uid: pod.metadata.uid }, container: p.container, run: run.value.run };
    const stop = abortedOnClose(req);
    const o = options.value;
    const batches = d.logs.containerLogs(target, o, endOf(d, key, target, run.value), stop.signal)[Symbol.asyncIterator]();
    let first: readonly LogLine[];
    try {
      first = (await next(batches)) ?? [];
    } catch (e) {
      stop.abort();
      req.log.warn({ err: e, pod: key, container: p.container }, 'could not read the container\'s logs');
      return plainText(reply, 500, `could not read the logs of container "${p.container}" in pod "${p.pod}": ${e instanceof Error ? e.message : String(e)}`);
    }
    return reply.code(200).type('text/plain; charset=utf-8').send(Readable.from(body(batches, first, o, stop), { objectMode: false }));
  };
}
