// Test double of AWS Session Manager: the SSM agent's port plugin (AWS-StartPortForwardingSession and
// …ToRemoteHost, or any Port document). It opens with the handshake — HandshakeRequest with agent
// version 3.3.1142.0 and SessionType Port plus the document's properties, the client's
// HandshakeResponse within the timeout (15 s), HandshakeComplete — and then forwards: smux v1 when
// the document's type is LocalPortForwarding and the ClientVersion is at least 1.1.70, otherwise one
// TCP connection at a time (basic mode: DisconnectToPort closes it and the next Output re-dials; with
// no type, the target's EOF ends the session). The TerminateSession flag ends the session. Port
// sessions are 8-bit clean: no UTF-8 filter.
import { connect, type Socket } from 'node:net';
import { FlagValue, flagPayload, PayloadType, type AgentMessage } from './agent-message.js';
import { chunks, versionAtLeast, type AgentEnd, type SessionAgent } from './agent.js';
import { SmuxError, SmuxServer } from './smux.js';

/** The agent version the stand-in announces. */
export const agentVersion = '3.3.1142.0';
/** Clients from this version on get smux for LocalPortForwarding. */
export const muxClientVersion = '1.1.70';

export interface PortAgentOptions {
  readonly properties: Readonly<Record<string, unknown>>;
  readonly host: string;
  readonly port: number;
  /** Document type LocalPortForwarding. */
  readonly local: boolean;
  readonly channel: { send(payloadType: number, payload: Buffer): void };
  readonly handshakeTimeoutMs: number;
  readonly ended: (end: AgentEnd) => void;
}

interface HandshakeResponse {
  readonly ClientVersion?: unknown;
  readonly ProcessedClientActions?: readonly { readonly ActionType?: unknown; readonly ActionStatus?: unknown; readonly Error?: unknown }[];
}

/** Why a HandshakeResponse makes the agent cancel the session; undefined when it is acceptable. */
export function handshakeProblem(r: HandshakeResponse): string | undefined {
  if (typeof r.ClientVersion !== 'string') return 'HandshakeResponse without a ClientVersion';
  const failed = (r.ProcessedClientActions ?? []).find((a) => a.ActionStatus !== 1);
  if (failed !== undefined) return `client failed handshake action ${String(failed.ActionType)}: ${typeof failed.Error === 'string' ? failed.Error : ''}`;
  return undefined;
}

/** Basic mode: one connection to the target at a time. */
class BasicForward {
  readonly #o: PortAgentOptions;
  #socket: Socket | undefined = undefined;
  #connected = false;

  constructor(o: PortAgentOptions) {
    this.#o = o;
    this.#dial();
  }

  /** Writes client bytes; false while the connection is being (re)made. */
  write(bytes: Buffer): boolean {
    if (this.#socket === undefined) this.#dial();
    if (!this.#connected) return false;
    this.#socket?.write(bytes);
    return true;
  }

  disconnect(): void {
    const s = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    s?.destroy();
  }

  #dial(): void {
    const socket = connect({ host: this.#o.host, port: this.#o.port });
    this.#socket = socket;
    socket.on('connect', () => { this.#connected = true; });
    socket.on('data', (b: Buffer) => { for (const c of chunks(b)) this.#o.channel.send(PayloadType.output, c); });
    socket.on('error', (e) => {
      if (this.#socket === socket && !this.#connected) this.#o.ended({ output: `Unable to connect to ${this.#o.host}:${this.#o.port}: ${e.message}`, waitForAcks: false });
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.disconnect();
      if (!this.#o.local) this.#o.ended({ output: '', waitForAcks: true });
    });
  }
}

export class PortAgent implements SessionAgent {
  readonly #o: PortAgentOptions;
  readonly #startedAt = process.hrtime.bigint();
  readonly #timer: NodeJS.Timeout;
  #handshaken = false;
  #done = false;
  #mux: SmuxServer | undefined = undefined;
  #basic: BasicForward | undefined = undefined;

  constructor(o: PortAgentOptions) {
    this.#o = o;
    const request = {
      AgentVersion: agentVersion,
      RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'Port', Properties: o.properties } }],
    };
    o.channel.send(PayloadType.handshakeRequest, Buffer.from(JSON.stringify(request)));
    this.#timer = setTimeout(() => {
      this.#end({ output: 'Handshake timed out. Please ensure that you have the latest version of the session manager plugin.', waitForAcks: false });
    }, o.handshakeTimeoutMs);
  }

  input(m: AgentMessage): boolean {
    if (this.#done) return true;
    // Before the handshake completes, anything but the response is acknowledged and discarded.
    if (!this.#handshaken) {
      if (m.payloadType === PayloadType.handshakeResponse) this.#handshake(m.payload);
      return true;
    }
    if (m.payloadType === PayloadType.flag) this.#flag(m.payload);
    else if (m.payloadType === PayloadType.output) return this.#data(m.payload);
    return true;
  }

  kill(): Promise<void> {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#mux?.close();
    this.#basic?.disconnect();
    return Promise.resolve();
  }

  #end(end: AgentEnd): void {
    if (this.#done) return;
    void this.kill();
    this.#o.ended(end);
  }

  #handshake(payload: Buffer): void {
    let response: HandshakeResponse;
    try {
      response = JSON.parse(payload.toString('utf8')) as HandshakeResponse;
    } catch {
      this.#end({ output: 'HandshakeResponse is not JSON', waitForAcks: false });
      return;
    }
    const problem = handshakeProblem(response);
    if (problem !== undefined) {
      this.#end({ output: problem, waitForAcks: false });
      return;
    }
    clearTimeout(this.#timer);
    this.#handshaken = true;
    const took = Number(process.hrtime.bigint() - this.#startedAt);
    this.#o.channel.send(PayloadType.handshakeComplete, Buffer.from(JSON.stringify({ HandshakeTimeToComplete: took, CustomerMessage: '' })));
    this.#forward(String(response.ClientVersion));
  }

  #forward(clientVersion: string): void {
    const { channel } = this.#o;
    if (!this.#o.local || !versionAtLeast(clientVersion, muxClientVersion)) {
      this.#basic = new BasicForward({ ...this.#o, ended: (e) => { this.#end(e); } });
      return;
    }
    this.#mux = new SmuxServer({
      host: this.#o.host, port: this.#o.port,
      write: (bytes) => { for (const c of chunks(bytes)) channel.send(PayloadType.output, c); },
      dialFailed: () => { channel.send(PayloadType.flag, flagPayload(FlagValue.connectToPortError)); },
    });
  }

  #flag(payload: Buffer): void {
    const value = payload.length >= 4 ? payload.readUInt32BE(0) : undefined;
    if (value === FlagValue.terminateSession) this.#end({ output: '', waitForAcks: false, byClient: true });
    else if (value === FlagValue.disconnectToPort) this.#basic?.disconnect();
  }

  #data(bytes: Buffer): boolean {
    if (this.#basic !== undefined) return this.#basic.write(bytes);
    try {
      this.#mux?.input(bytes);
    } catch (e) {
      if (!(e instanceof SmuxError)) throw e;
      this.#end({ output: e.message, waitForAcks: false });
    }
    return true;
  }
}
