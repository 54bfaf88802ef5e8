// Reading and writing Node streams one step at a time, for the exec client: a read that waits for
// data, the stream's end or an abort signal without switching the stream to flowing mode (so
// nothing is read that is not asked for: backpressure), and a write or end that waits for the stream
// to take it. None of them destroys a stream or leaves a listener behind.
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** A chunk, the stream's end (ended, failed or destroyed), or the signal aborted first. */
export type Pulled = Buffer | 'end' | 'stopped';

/** Resolves at the first of `events` on `emitter`, or when `signal` aborts. */
export function firstOf(emitter: EventEmitter, events: readonly string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const e of events) emitter.off(e, done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    for (const e of events) emitter.on(e, done);
    signal.addEventListener('abort', done, { once: true });
    if (signal.aborted) done();
  });
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.from(chunk as Uint8Array);
}

/** The next chunk of `r`. */
export async function pull(r: Readable, signal: AbortSignal): Promise<Pulled> {
  for (;;) {
    if (signal.aborted) return 'stopped';
    const chunk: unknown = r.read();
    if (chunk !== null) return asBuffer(chunk);
    if (r.readableEnded || r.destroyed || r.errored !== null) return 'end';
    await firstOf(r, ['readable', 'end', 'close', 'error'], signal);
  }
}

const gone = (w: Writable): boolean => w.destroyed || w.writableEnded || w.errored !== null;

/** Writes `chunk` and waits until `w` wants more; false when `w` is gone (the chunk may be lost) or `signal` aborted. */
export async function put(w: Writable, chunk: string | Uint8Array, signal: AbortSignal): Promise<boolean> {
  if (gone(w) || signal.aborted) return false;
  if (!w.write(chunk)) await firstOf(w, ['drain', 'close', 'error'], signal);
  return !gone(w) && !signal.aborted;
}

/** Ends `w` and waits until its data is written (or it failed, or `signal` aborted). */
export async function finish(w: Writable | undefined, signal: AbortSignal): Promise<void> {
  if (w === undefined || w.writableFinished || w.destroyed || w.errored !== null) return;
  const finished = firstOf(w, ['finish', 'close', 'error'], signal);
  if (!w.writableEnded) w.end();
  await finished;
}
