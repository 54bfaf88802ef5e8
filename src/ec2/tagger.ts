// Writes a pod's tags on its instance (CreateTags): an instance launched in a batch, or taken over,
// does not carry them yet. One write per instance at a time; a failed write is written again when a
// poll still lists the instance without them.
import type { PodKey } from '../domain/pod.js';
import type { Logger } from '../observability/logger.js';
import type { InstanceLauncher } from '../ports/launcher.js';

export class Tagger {
  readonly #launcher: Pick<InstanceLauncher, 'tag'>;
  readonly #log: Logger;
  readonly #writing = new Set<string>();

  constructor(launcher: Pick<InstanceLauncher, 'tag'>, log: Logger) {
    this.#launcher = launcher;
    this.#log = log;
  }

  /** Writes in flight. */
  get pending(): number {
    return this.#writing.size;
  }

  async tag(id: string, tags: Readonly<Record<string, string>>, pod: PodKey): Promise<void> {
    if (this.#writing.has(id)) return;
    this.#writing.add(id);
    try {
      await this.#launcher.tag([id], tags);
    } catch (err) {
      this.#log.warn({ err, pod, instanceId: id }, 'could not tag the instance with its pod; trying again at the next poll');
    } finally {
      this.#writing.delete(id);
    }
  }
}
