// Test double of AWS Session Manager for the test bed (never shipped): moto implements no
// StartSession / TerminateSession and nothing real serves the SSM data channel here, so this plays
// the Message Gateway Service and the on-instance SSM agent. It answers the JSON 1.1 actions
// AmazonSSM.StartSession and AmazonSSM.TerminateSession (installed on the fault proxy by register(),
// or called directly), reads Session documents from moto (GetDocument) or its built-in AWS-owned
// ones, and serves each session's data channel on a loopback WebSocket server
// (ws://127.0.0.1:<port>/v1/data-channel/<SessionId>…), running the session "on" the emulated
// instance. Tests read counters and protocol violations, and inject faults. stop() ends everything.
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GetDocumentCommandOutput } from '@aws-sdk/client-ssm';
import { GetDocumentCommand } from '@aws-sdk/client-ssm';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Answer, FaultProxy } from '../fault-proxy/fault-proxy.js';
import type { Faults } from './data-channel.js';
import { builtInDocuments, defaultDocument, DocumentError, planSession, type SessionPlan } from './documents.js';
import { Session, type SessionEnd, type SessionSettings } from './session.js';
import type { AgentContext } from './shell-agent.js';

export type { AgentContext } from './shell-agent.js';
export type { Faults } from './data-channel.js';

/** What the stand-in needs of an SSM client: GetDocument (moto's SSMClient fits). */
export interface DocumentReader {
  send(command: GetDocumentCommand): Promise<GetDocumentCommandOutput>;
}

export interface StandInOptions extends Partial<SessionSettings> {
  /** Reads documents the stand-in does not know itself. */
  readonly ssm: DocumentReader;
  /** The agent of a running instance; undefined when the instance is not (or no longer) running. */
  readonly instances: (instanceId: string) => AgentContext | undefined;
  readonly faults?: Faults;
}

/** What tests can count. */
export interface StandInCounters {
  /** Sessions StartSession created. */
  readonly started: number;
  /** Sessions ended by TerminateSession (the API or the client's flag). */
  readonly terminated: number;
  /** Sessions over, however they ended. */
  readonly ended: number;
  /** Sessions started and not over. */
  readonly open: number;
  /** Output messages sent again for want of an acknowledgement. */
  readonly resent: number;
}

const defaults: SessionSettings = { outputDelayMs: 1000, resendMs: 200, tokenTtlMs: 60_000, handshakeTimeoutMs: 15_000, closeGraceMs: 2000 };
const openFrameTimeoutMs = 10_000;
const violationLimit = 1000;

/** An error StartSession / TerminateSession answers, with its AWS code. */
export class SessionApiError extends Error {
  constructor(readonly awsCode: string, message: string, readonly status = 400) {
    super(message);
  }
}

function json(status: number, content: unknown): Answer {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() }, body: Buffer.from(JSON.stringify(content)) };
}

function errorAnswer(e: unknown): Answer {
  if (e instanceof SessionApiError) return json(e.status, { __type: e.awsCode, message: e.message });
  if (e instanceof DocumentError) return json(400, { __type: e.awsCode, message: e.message });
  return json(500, { __type: 'InternalServerError', message: e instanceof Error ? e.message : String(e) });
}

function parseBody(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new SessionApiError('ValidationException', 'The request body is not a JSON object.');
}

function parameters(v: unknown): Record<string, readonly string[]> {
  if (v === undefined) return {};
  const valid = typeof v === 'object' && v !== null && Object.values(v).every((l) => Array.isArray(l) && l.every((s) => typeof s === 'string'));
  if (!valid) throw new SessionApiError('ValidationException', 'Parameters must map names to lists of strings.');
  return v as Record<string, readonly string[]>;
}

function bufferOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export class SessionManagerStandIn {
  /** Faults for sessions' data channels; read at every message, so tests may change them at any time. */
  faults: Faults;
  /** Protocol problems seen on clients' frames (a correct client causes none). */
  readonly violations: string[] = [];
  readonly #o: StandInOptions;
  readonly #settings: SessionSettings;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Map<string, Session>();
  #counts = { started: 0, terminated: 0, ended: 0, resent: 0 };

  private constructor(o: StandInOptions) {
    this.#o = o;
    this.faults = o.faults ?? {};
    this.#settings = {
      outputDelayMs: o.outputDelayMs ?? defaults.outputDelayMs, resendMs: o.resendMs ?? defaults.resendMs,
      tokenTtlMs: o.tokenTtlMs ?? defaults.tokenTtlMs, handshakeTimeoutMs: o.handshakeTimeoutMs ?? defaults.handshakeTimeoutMs,
      closeGraceMs: o.closeGraceMs ?? defaults.closeGraceMs,
    };
    this.#wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    this.#wss.on('connection', (ws, req) => { this.#connection(ws, req); });
  }

  /** Starts the stand-in's WebSocket server on a loopback port. */
  static async start(o: StandInOptions): Promise<SessionManagerStandIn> {
    const s = new SessionManagerStandIn(o);
    if (s.#wss.address() === null) await once(s.#wss, 'listening');
    return s;
  }

  /** The data-channel endpoint, ws://127.0.0.1:<port>. */
  get endpoint(): string {
    return `ws://127.0.0.1:${(this.#wss.address() as AddressInfo).port}`;
  }

  get counters(): StandInCounters {
    const c = this.#counts;
    return { ...c, open: c.started - c.ended };
  }

  /** The exit code of a shell session's command once it has exited (null: a signal); undefined before, or for other sessions. */
  exitCode(sessionId: string): number | null | undefined {
    return this.#sessions.get(sessionId)?.exitCode;
  }

  /** A session's state, undefined for an unknown id. */
  state(sessionId: string): Session['state'] | undefined {
    return this.#sessions.get(sessionId)?.state;
  }

  /** Injects pause_publication into a session: its output waits until startPublication. */
  pausePublication(sessionId: string): void {
    this.#session(sessionId).pause();
  }

  /** Injects start_publication: the session's output resumes. */
  startPublication(sessionId: string): void {
    this.#session(sessionId).resume();
  }

  /** Answers StartSession and TerminateSession on the fault proxy instead of moto. */
  register(proxy: FaultProxy): void {
    proxy.intercept('AmazonSSM.StartSession', (body) => this.startSession(body));
    proxy.intercept('AmazonSSM.TerminateSession', (body) => this.terminateSession(body));
  }

  /** AmazonSSM.StartSession: {Target, DocumentName?, Parameters?} → {SessionId, TokenValue, StreamUrl}. */
  async startSession(body: Buffer): Promise<Answer> {
    try {
      const req = parseBody(body);
      const target = req.Target;
      if (typeof target !== 'string' || target === '') throw new SessionApiError('ValidationException', 'Target is required.');
      if (this.#o.instances(target) === undefined) throw new SessionApiError('TargetNotConnected', `${target} is not connected.`);
      const name = typeof req.DocumentName === 'string' ? req.DocumentName : defaultDocument;
      const plan = planSession(await this.#document(name), parameters(req.Parameters));
      return json(200, this.#mint(target, plan));
    } catch (e) {
      return errorAnswer(e);
    }
  }

  /** AmazonSSM.TerminateSession: {SessionId} → {SessionId}; idempotent. */
  async terminateSession(body: Buffer): Promise<Answer> {
    try {
      const id = parseBody(body).SessionId;
      if (typeof id !== 'string' || id === '') throw new SessionApiError('ValidationException', 'SessionId is required.');
      await this.#sessions.get(id)?.terminate();
      return json(200, { SessionId: id });
    } catch (e) {
      return errorAnswer(e);
    }
  }

  /** Ends every session (its processes and connections) and closes the WebSocket server. */
  async stop(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.stop()));
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => { this.#wss.close(() => { resolve(); }); });
  }

  #session(id: string): Session {
    const s = this.#sessions.get(id);
    if (s === undefined) throw new Error(`no session ${id} in the Session Manager stand-in`);
    return s;
  }

  async #document(name: string): Promise<unknown> {
    const builtIn = builtInDocuments.get(name);
    if (builtIn !== undefined) return builtIn;
    let out: GetDocumentCommandOutput;
    try {
      out = await this.#o.ssm.send(new GetDocumentCommand({ Name: name, DocumentFormat: 'JSON' }));
    } catch (e) {
      throw new SessionApiError('InvalidDocument', `Document ${name} could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (out.DocumentType !== undefined && out.DocumentType !== 'Session') throw new SessionApiError('InvalidDocument', `Document ${name} is of type ${out.DocumentType}, not Session.`);
    if (out.Content === undefined) throw new SessionApiError('InvalidDocument', `Document ${name} has no content.`);
    return out.Content;
  }

  #mint(target: string, plan: SessionPlan): { SessionId: string; TokenValue: string; StreamUrl: string } {
    const id = `orca-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const token = randomBytes(48).toString('base64');
    const session = new Session({
      id, token, target, plan, settings: this.#settings, faults: () => this.faults,
      context: () => this.#o.instances(target),
      events: { violation: (t) => { this.#violation(`${id}: ${t}`); }, resent: () => { this.#counts.resent++; }, ended: (how) => { this.#ended(how); } },
    });
    this.#sessions.set(id, session);
    this.#counts.started++;
    return { SessionId: id, TokenValue: token, StreamUrl: `${this.endpoint}/v1/data-channel/${id}?role=publish_subscribe&cell-number=AAAA` };
  }

  #ended(how: SessionEnd): void {
    this.#counts.ended++;
    if (how === 'terminated') this.#counts.terminated++;
  }

  #violation(text: string): void {
    if (this.violations.length < violationLimit) this.violations.push(text);
  }

  #connection(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'ws://127.0.0.1');
    const id = /^\/v1\/data-channel\/([^/]+)$/.exec(url.pathname)?.[1];
    const session = id === undefined ? undefined : this.#sessions.get(decodeURIComponent(id));
    if (session === undefined) {
      ws.close(1008, 'no such session');
      return;
    }
    if (url.searchParams.get('role') !== 'publish_subscribe') this.#violation(`${session.id}: StreamUrl opened without role=publish_subscribe`);
    const timer = setTimeout(() => { ws.close(1008, 'no open-data-channel frame'); }, openFrameTimeoutMs);
    ws.once('message', (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      const refusal = session.open(ws, bufferOf(data), isBinary);
      if (refusal !== undefined) ws.close(1008, refusal);
    });
    ws.on('close', () => { clearTimeout(timer); });
  }
}
