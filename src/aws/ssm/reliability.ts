// The data channel's reliability state, pure and clock-free (times are passed in): the
// retransmission timeout estimator, the window of sent-but-unacknowledged messages and the
// receive-side reorder buffer. Constants and rules: shared/reference/ssm-session.md §2.6.

/** RTO bounds and the plugin's starting values. */
export const rto = Object.freeze({ initialMs: 200, minMs: 10, maxMs: 1000, initialSrttMs: 100, granularityMs: 10 });

/**
 * Jacobson/Karels estimator as the plugin and agent compute it: RTTVAR ← ¾·RTTVAR + ¼·|SRTT − R|,
 * SRTT ← ⅞·SRTT + ⅛·R, RTO = SRTT + max(10 ms, 4·RTTVAR), clamped to 10 ms..1 s.
 */
export class RetransmissionTimeout {
  #srtt: number = rto.initialSrttMs;
  #rttvar = 0;
  #rto: number = rto.initialMs;

  /** The current timeout in milliseconds. */
  get ms(): number {
    return this.#rto;
  }

  /** Feeds one round-trip sample (milliseconds). */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
    this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    this.#rto = Math.min(rto.maxMs, Math.max(rto.minMs, this.#srtt + Math.max(rto.granularityMs, 4 * this.#rttvar)));
  }
}

/** One sent message awaiting its acknowledgement. */
export interface Unacked {
  readonly seq: number;
  readonly frame: Buffer;
  /** Payload bytes (what the unacked cap counts). */
  readonly bytes: number;
  lastSentAt: number;
  sends: number;
}

/** Sent, unacknowledged messages in sequence order, with their byte count and progress clock. */
export class SendWindow {
  readonly #entries = new Map<number, Unacked>();
  readonly #timeout = new RetransmissionTimeout();
  #bytes = 0;
  #next = 0;
  #progressAt = 0;

  /** Payload bytes not yet acknowledged. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get rtoMs(): number {
    return this.#timeout.ms;
  }

  /** The next sequence number (0, 1, 2 …), consumed. */
  take(): number {
    return this.#next++;
  }

  /** Whether a message of `bytes` fits under `cap` (a lone message always fits). */
  fits(bytes: number, cap: number): boolean {
    return this.#bytes === 0 || this.#bytes + bytes <= cap;
  }

  /** Records a first transmission. */
  add(seq: number, frame: Buffer, bytes: number, now: number): void {
    if (this.#entries.size === 0) this.#progressAt = now;
    this.#entries.set(seq, { seq, frame, bytes, lastSentAt: now, sends: 1 });
    this.#bytes += bytes;
  }

  /** Removes the acknowledged message; samples the RTT when it was sent once (Karn). False when unknown. */
  acknowledge(seq: number, now: number): boolean {
    const e = this.#entries.get(seq);
    if (e === undefined) return false;
    this.#entries.delete(seq);
    this.#bytes -= e.bytes;
    this.#progressAt = now;
    if (e.sends === 1) this.#timeout.sample(now - e.lastSentAt);
    return true;
  }

  /** Every message whose last transmission is at least one RTO old, marked as sent again at `now`. */
  due(now: number): Unacked[] {
    const limit = this.#timeout.ms;
    const out: Unacked[] = [];
    for (const e of this.#entries.values()) {
      if (now - e.lastSentAt < limit) continue;
      e.lastSentAt = now;
      e.sends += 1;
      out.push(e);
    }
    return out;
  }

  /** How long the agent has acknowledged nothing while something was outstanding (0 when nothing is). */
  stalledFor(now: number): number {
    return this.#entries.size === 0 ? 0 : now - this.#progressAt;
  }

  /** Restarts the progress clock (after a pause, when waiting was not the agent's fault). */
  restartClock(now: number): void {
    this.#progressAt = now;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** What became of one received sequenced message. */
export type Arrival<T> =
  | { readonly kind: 'in-order'; readonly ready: readonly T[] }
  | { readonly kind: 'buffered' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'full' };

/** Puts the peer's sequenced messages back in order; `full` ones must not be acknowledged. */
export class ReceiveWindow<T> {
  readonly #pending = new Map<number, T>();
  #expected = 0;

  constructor(readonly maxBuffered: number) {}

  /** The next sequence number the window can deliver. */
  get expected(): number {
    return this.#expected;
  }

  get buffered(): number {
    return this.#pending.size;
  }

  accept(seq: number, item: T): Arrival<T> {
    if (seq < this.#expected || this.#pending.has(seq)) return { kind: 'duplicate' };
    if (seq > this.#expected) {
      if (this.#pending.size >= this.maxBuffered) return { kind: 'full' };
      this.#pending.set(seq, item);
      return { kind: 'buffered' };
    }
    const ready = [item];
    this.#expected += 1;
    for (let next = this.#pending.get(this.#expected); next !== undefined; next = this.#pending.get(this.#expected)) {
      this.#pending.delete(this.#expected);
      ready.push(next);
      this.#expected += 1;
    }
    return { kind: 'in-order', ready };
  }
}
