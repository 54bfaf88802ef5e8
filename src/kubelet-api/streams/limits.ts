// How many exec, attach and port-forward sessions run at once, per pod and on the node: every
// session holds a Session Manager session and a process on the instance, so both are capped
// (kubeletApi.streams.maxPerPod, maxPerNode) and a request over a cap is refused before it starts.
import type { StreamRefusal } from './stream-request.js';

export interface SessionCaps {
  readonly maxPerPod: number;
  readonly maxPerNode: number;
}

export class SessionLimits {
  readonly #caps: SessionCaps;
  readonly #perPod = new Map<string, number>();
  #total = 0;

  constructor(caps: SessionCaps) {
    this.#caps = caps;
  }

  /** Sessions open now. */
  get open(): number {
    return this.#total;
  }

  /** Takes a place for a session of pod `uid` (`what` names the pod in the refusal); the release function gives it back once. */
  acquire(uid: string, what: string): { readonly release: () => void } | StreamRefusal {
    const mine = this.#perPod.get(uid) ?? 0;
    if (this.#total >= this.#caps.maxPerNode) return { status: 429, message: `too many exec, attach and port-forward sessions on this node (at most ${String(this.#caps.maxPerNode)}); try again later` };
    if (mine >= this.#caps.maxPerPod) return { status: 429, message: `too many exec, attach and port-forward sessions on pod ${what} (at most ${String(this.#caps.maxPerPod)}); try again later` };
    this.#perPod.set(uid, mine + 1);
    this.#total++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const left = (this.#perPod.get(uid) ?? 1) - 1;
        if (left === 0) this.#perPod.delete(uid);
        else this.#perPod.set(uid, left);
      },
    };
  }
}
