// SessionManager over the SSM API and the data channel: StartSession, then the StreamUrl opened
// with the returned token (data-channel.ts); port sessions run AWS-StartPortForwardingSession with
// ClientVersion 1.2.677.0, so the agent multiplexes connections with smux (smux.ts). Sessions end
// with TerminateSession, which never throws: cleaning up must not hide the error that led to it.
import { randomUUID } from 'node:crypto';
import { StartSessionCommand, TerminateSessionCommand, type StartSessionCommandInput } from '@aws-sdk/client-ssm';
import { SessionError } from '../../domain/errors.js';
import type { CommandSession, PortSession, SessionManager } from '../../ports/sessions.js';
import { withSignal } from '../sdk-util.js';
import { FlagValue } from './agent-message.js';
import { defaultClientVersion, type ChannelTimers, type ChannelTuning, type SessionLog } from './channel-config.js';
import { DataChannel } from './data-channel.js';
import { SessionDocuments, type SsmSend } from './documents.js';
import { sessionErrorFrom } from './session-errors.js';
import { SmuxClient } from './smux.js';

/** The AWS-managed Port document; its `type: LocalPortForwarding` makes the agent multiplex. */
export const portForwardingDocument = 'AWS-StartPortForwardingSession';

export interface SsmSessionManagerDeps {
  readonly ssm: SsmSend;
  readonly log: SessionLog;
  /** Dial ws:// StreamUrls (the test bed's loopback stand-in); only wss:// otherwise. */
  readonly allowPlainWebSocket?: boolean | undefined;
  /** The plugin version announced; 1.2.677.0 when absent (smux needs ≥ 1.1.70). */
  readonly clientVersion?: string | undefined;
  readonly timers?: ChannelTimers | undefined;
  readonly tuning?: Partial<ChannelTuning> | undefined;
}

interface Started {
  readonly sessionId: string;
  readonly streamUrl: string;
  readonly tokenValue: string;
}

export class SsmSessionManager implements SessionManager {
  readonly #d: SsmSessionManagerDeps;
  readonly #documents: SessionDocuments;
  /** One id per ORCA process, as the plugin keeps one per run. */
  readonly #clientId = randomUUID();

  constructor(deps: SsmSessionManagerDeps) {
    this.#d = deps;
    this.#documents = new SessionDocuments({ ssm: deps.ssm, log: deps.log });
  }

  ensureDocument(name: string, content: string, signal?: AbortSignal): Promise<void> {
    return this.#documents.ensure(name, content, signal);
  }

  async startCommand(instanceId: string, document: string, parameters: Readonly<Record<string, readonly string[]>>, signal?: AbortSignal): Promise<CommandSession> {
    const Parameters = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [...v]]));
    const started = await this.#start({ Target: instanceId, DocumentName: document, Parameters }, signal);
    const channel = await this.#open(started, signal);
    const terminate = this.#terminator(started.sessionId, channel);
    channel.stream.once('close', () => { void terminate(); });
    return { sessionId: started.sessionId, stream: channel.stream, terminate };
  }

  async startPortForwarding(instanceId: string, port: number, signal?: AbortSignal): Promise<PortSession> {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new SessionError('invalid-document', `cannot forward port ${port}: not a TCP port number`);
    const started = await this.#start({
      Target: instanceId, DocumentName: portForwardingDocument, Parameters: { portNumber: [String(port)], localPortNumber: ['0'] },
    }, signal);
    const channel = await this.#open(started, signal);
    const mux = new SmuxClient({ transport: channel.stream, log: this.#d.log });
    channel.onFlag((flag) => {
      if (flag !== FlagValue.connectToPortError) return;
      if (!mux.refuseYoungestPending(new SessionError('closed', `connection refused by the instance (port ${port})`))) {
        this.#d.log.debug({ sessionId: started.sessionId, port }, 'ConnectToPortError for no waiting connection');
      }
    });
    const terminate = this.#terminator(started.sessionId, channel, () => { channel.sendFlag(FlagValue.terminateSession); });
    channel.stream.once('close', () => {
      mux.close();
      void terminate();
    });
    return {
      sessionId: started.sessionId,
      connect: () => mux.openStream(),
      terminate: () => {
        mux.close();
        return terminate();
      },
    };
  }

  async #start(input: StartSessionCommandInput, signal: AbortSignal | undefined): Promise<Started> {
    const r = await this.#d.ssm.send(new StartSessionCommand(input), withSignal(signal)).catch((e: unknown) => {
      throw signal?.aborted === true ? signal.reason : sessionErrorFrom(e, 'StartSession');
    });
    if (r.SessionId === undefined || r.StreamUrl === undefined || r.TokenValue === undefined) {
      if (r.SessionId !== undefined) await this.#terminateSession(r.SessionId);
      throw new SessionError('protocol', 'StartSession returned no SessionId, StreamUrl or TokenValue');
    }
    return { sessionId: r.SessionId, streamUrl: r.StreamUrl, tokenValue: r.TokenValue };
  }

  async #open(s: Started, signal: AbortSignal | undefined): Promise<DataChannel> {
    const d = this.#d;
    try {
      return await DataChannel.open({
        streamUrl: s.streamUrl, tokenValue: s.tokenValue, clientId: this.#clientId, clientVersion: d.clientVersion ?? defaultClientVersion,
        allowPlainWebSocket: d.allowPlainWebSocket, timers: d.timers, log: d.log, tuning: d.tuning, signal,
      });
    } catch (e) {
      await this.#terminateSession(s.sessionId);
      throw e;
    }
  }

  /** terminate() of one session: once, never throwing; `first` runs before the API call. */
  #terminator(sessionId: string, channel: DataChannel, first?: () => void): () => Promise<void> {
    let done: Promise<void> | undefined = undefined;
    return () => {
      done ??= (async () => {
        first?.();
        await this.#terminateSession(sessionId);
        channel.close('terminated by ORCA');
      })();
      return done;
    };
  }

  async #terminateSession(sessionId: string): Promise<void> {
    try {
      await this.#d.ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    } catch (e) {
      this.#d.log.warn({ err: e, sessionId }, 'TerminateSession failed; the service ends the session when it idles out');
    }
  }
}
