// `kubectl logs` from the CloudWatch Logs streams the agent writes: a first read of the run's
// stream (all of it from `since` on, or its last N lines backwards), then, with follow, the shared
// poller (followers.ts) from where that read stopped. The stream's name is the agent protocol's;
// it is given, so this module knows CloudWatch only through the LogStore port.
import type { LogStore, StoredEvent } from '../ports/log-store.js';
import type { LogLine, LogOptions, LogsCapable, LogTarget } from '../provider/provider.js';
import type { Clock } from '../ports/clock.js';
import { cursorAfter, cursorAt, type Cursor } from './cursor.js';
import type { LogFollowers } from './followers.js';
import type { ReadBudget } from './read-budget.js';
import { readAll, readTail } from './stream-reads.js';

export interface ContainerLogsDeps {
  readonly store: LogStore;
  readonly budget: Pick<ReadBudget, 'take'>;
  readonly followers: Pick<LogFollowers, 'follow'>;
  readonly clock: Clock;
  readonly group: string;
  /** The log stream a container run writes to. */
  readonly streamOf: (target: LogTarget) => string;
}

const lines = (events: readonly StoredEvent[]): readonly LogLine[] => events.map((e) => ({ at: e.timestamp, text: e.message }));

export class ContainerLogs implements LogsCapable {
  readonly #d: ContainerLogsDeps;

  constructor(deps: ContainerLogsDeps) {
    this.#d = deps;
  }

  async* containerLogs(target: LogTarget, options: LogOptions, endedAt: () => Date | undefined, signal: AbortSignal): AsyncGenerator<readonly LogLine[]> {
    const stream = this.#d.streamOf(target);
    const reader = { store: this.#d.store, budget: this.#d.budget, group: this.#d.group };
    const startTime = options.since?.getTime();
    const readAt = this.#d.clock.now().getTime();
    let cursor: Cursor = cursorAt(startTime);
    if (options.tailLines !== undefined) {
      const tail = await readTail(reader, { stream, lines: options.tailLines, startTime }, signal);
      cursor = cursorAfter(cursor, tail, tail.length < options.tailLines);
      yield lines(tail);
    } else {
      let pages = 0;
      for await (const page of readAll(reader, stream, startTime, signal)) {
        cursor = cursorAfter(cursor, page);
        pages += 1;
        yield lines(page);
      }
      if (pages === 0) yield [];
    }
    if (!options.follow) return;
    const ended = (): number | undefined => endedAt()?.getTime();
    for await (const batch of this.#d.followers.follow({ stream, cursor, readAt, endedAt: ended }, signal)) yield lines(batch);
  }
}
