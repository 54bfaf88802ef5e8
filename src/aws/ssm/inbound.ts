// The receiving half of a data channel: every stream message that is taken (delivered now or kept
// for later) is acknowledged, duplicates are acknowledged again (so the agent stops resending) and
// never delivered twice, and messages are delivered strictly in sequence order. A message is left
// unacknowledged — the agent resends it — when the reorder buffer is full or, for the next one in
// order, when the reader has not taken what it already has (hasRoom), which bounds memory.
import { acknowledgementOf, encodeAgentMessage, type AgentMessage } from './agent-message.js';
import { ReceiveWindow } from './reliability.js';

export interface InboundDeps {
  readonly transmit: (frame: Buffer) => void;
  readonly now: () => number;
  readonly newId: () => string;
  readonly maxOutOfOrder: number;
  /** False while the reader is behind; the next in-order message is then left for a resend. */
  readonly hasRoom: () => boolean;
  /** Each message once, in sequence order. */
  readonly deliver: (m: AgentMessage) => void;
}

export type Receipt = 'delivered' | 'buffered' | 'duplicate' | 'dropped';

/** Counters for metrics and tests. */
export interface InboundStats {
  delivered: number;
  buffered: number;
  duplicates: number;
  dropped: number;
}

export class Inbound {
  readonly stats: InboundStats = { delivered: 0, buffered: 0, duplicates: 0, dropped: 0 };
  readonly #d: InboundDeps;
  readonly #window: ReceiveWindow<AgentMessage>;

  constructor(deps: InboundDeps) {
    this.#d = deps;
    this.#window = new ReceiveWindow(deps.maxOutOfOrder);
  }

  /** The next sequence number expected from the agent. */
  get expected(): number {
    return this.#window.expected;
  }

  receive(m: AgentMessage): Receipt {
    if (m.sequenceNumber === this.#window.expected && !this.#d.hasRoom()) return this.#drop();
    const arrival = this.#window.accept(m.sequenceNumber, m);
    if (arrival.kind === 'full') return this.#drop();
    this.#acknowledge(m);
    if (arrival.kind === 'duplicate') {
      this.stats.duplicates += 1;
      return 'duplicate';
    }
    if (arrival.kind === 'buffered') {
      this.stats.buffered += 1;
      return 'buffered';
    }
    for (const r of arrival.ready) {
      this.stats.delivered += 1;
      this.#d.deliver(r);
    }
    return 'delivered';
  }

  #drop(): Receipt {
    this.stats.dropped += 1;
    return 'dropped';
  }

  #acknowledge(m: AgentMessage): void {
    this.#d.transmit(encodeAgentMessage(acknowledgementOf(m, { messageId: this.#d.newId(), createdDate: Math.floor(this.#d.now()) })));
  }
}
