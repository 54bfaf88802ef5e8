// SsmSessionManager: the SSM API mapping (aws-sdk-client-mock) and whole sessions against an
// in-test fake agent peer — a command session that echoes, and a port session with the handshake
// and smux behind it (echoing target, refused connections).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  CreateDocumentCommand, DescribeDocumentCommand, GetDocumentCommand, SSMClient, StartSessionCommand, TerminateSessionCommand, UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SessionError } from '../../domain/errors.js';
import { acknowledgementOf, decodeAgentMessage, decodeFlag, encodeAgentMessage, encodeFlag, MessageType, PayloadType, type AgentMessage } from './agent-message.js';
import { newMessageId, type SessionLog } from './channel-config.js';
import { SsmSessionManager, portForwardingDocument } from './index.js';
import { encodeSmuxFrame, SmuxCmd, SmuxFrameReader } from './smux-frame.js';

type Mode = 'command' | 'port' | 'kms';
const sessionTypeAction = (t: string): unknown => ({ ActionType: 'SessionType', ActionParameters: { SessionType: t, Properties: t === 'Port' ? { type: 'LocalPortForwarding' } : null } });
const kmsAction = { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'alias/session-key', Challenge: 'AAAAAAAAAAAAAAAAAAAAAA==' } };

/**
 * Plays the agent: a command session echoes input upper-cased; a Port session runs smux over the
 * handshake; a 'kms' one asks for KMS encryption, as an account with that preference would.
 */
class FakeAgent {
  readonly inputs: AgentMessage[] = [];
  readonly refusedStreams = new Set<number>();
  #seq = 0;
  #socket: WebSocket | undefined = undefined;
  readonly #reader = new SmuxFrameReader();

  constructor(readonly server: WebSocketServer, readonly mode: Mode) {
    server.on('connection', (ws) => {
      this.#socket = ws;
      ws.on('message', (data: Buffer, binary: boolean) => { if (binary) this.#onMessage(decodeAgentMessage(data)); else this.#start(); });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/data-channel/s-1?role=publish_subscribe`;
  }

  send(payload: Buffer | string, payloadType: number = PayloadType.output): void {
    this.#socket?.send(encodeAgentMessage({
      messageType: MessageType.output, schemaVersion: 1, createdDate: Date.now(), sequenceNumber: this.#seq++, flags: 0, messageId: newMessageId(), payloadType, payload: Buffer.from(payload),
    }));
  }

  closeChannel(output: string): void {
    this.#socket?.send(encodeAgentMessage({
      messageType: MessageType.channelClosed, schemaVersion: 1, createdDate: Date.now(), sequenceNumber: 0, flags: 0, messageId: newMessageId(), payloadType: 0,
      payload: Buffer.from(JSON.stringify({ Output: output })),
    }));
  }

  #start(): void {
    if (this.mode === 'command') {
      this.send('ORCA1 HELLO\n');
      return;
    }
    const actions = this.mode === 'port' ? [sessionTypeAction('Port')] : [sessionTypeAction('InteractiveCommands'), kmsAction];
    this.send(JSON.stringify({ AgentVersion: '3.3.1142.0', RequestedClientActions: actions }), PayloadType.handshakeRequest);
  }

  #onMessage(m: AgentMessage): void {
    if (m.messageType !== MessageType.input) return;
    this.inputs.push(m);
    this.#socket?.send(encodeAgentMessage(acknowledgementOf(m, { messageId: newMessageId(), createdDate: Date.now() })));
    if (m.payloadType === PayloadType.handshakeResponse) this.send('{"HandshakeTimeToComplete":1,"CustomerMessage":""}', PayloadType.handshakeComplete);
    if (m.payloadType !== PayloadType.output) return;
    if (this.mode === 'command') this.send(m.payload.toString().toUpperCase());
    else for (const f of this.#reader.push(m.payload)) this.#onSmux(f.cmd, f.streamId, f.payload);
  }

  #onSmux(cmd: number, id: number, payload: Buffer): void {
    const reply = (c: 1 | 2, p = ''): void => { this.send(encodeSmuxFrame({ cmd: c, streamId: id, payload: Buffer.from(p) })); };
    if (cmd === SmuxCmd.syn && this.refusedStreams.has(id)) {
      this.send(encodeFlag(3), PayloadType.flag);
      reply(SmuxCmd.fin);
    }
    if (cmd === SmuxCmd.psh) reply(SmuxCmd.psh, payload.toString().toUpperCase());
    if (cmd === SmuxCmd.fin) reply(SmuxCmd.fin);
  }
}

async function fakeAgent(mode: Mode): Promise<FakeAgent> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return new FakeAgent(server, mode);
}

const ssm = mockClient(SSMClient);
const warnings: [object, string][] = [];
const log: SessionLog = { warn: (o, m) => { warnings.push([o, m]); }, debug: () => undefined };
const manager = (allowPlainWebSocket = true): SsmSessionManager => new SsmSessionManager({ ssm: new SSMClient({ region: 'us-east-1' }), log, allowPlainWebSocket, tuning: { resendScanMs: 20 } });
const awsError = (name: string, message = `${name} happened`): Error => Object.assign(new Error(message), { name });
const started = (url: string): { SessionId: string; StreamUrl: string; TokenValue: string } => ({ SessionId: 'orca-0123456789abcdef0', StreamUrl: url, TokenValue: 'tok' });
const until = async (ok: () => boolean, ms = 3000): Promise<void> => {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() > end) throw new Error('timed out');
};

let servers: WebSocketServer[] = [];
beforeEach(() => {
  ssm.reset();
  warnings.length = 0;
  ssm.on(TerminateSessionCommand).resolves({});
});
afterEach(async () => {
  for (const s of servers) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => { s.close(r); });
  }
  servers = [];
});

async function agentFor(mode: Mode): Promise<FakeAgent> {
  const agent = await fakeAgent(mode);
  servers.push(agent.server);
  ssm.on(StartSessionCommand).resolves(started(agent.url));
  return agent;
}

describe('a command session', () => {
  it('starts the document on the instance and carries the session\'s bytes both ways until channel_closed', async () => {
    const agent = await agentFor('command');
    const session = await manager().startCommand('i-0abc', 'ORCA-Exec-v1', { nonce: ['abcdefghijklmnop'] });
    expect(ssm.commandCalls(StartSessionCommand)[0]?.args[0].input).toEqual({ Target: 'i-0abc', DocumentName: 'ORCA-Exec-v1', Parameters: { nonce: ['abcdefghijklmnop'] } });
    expect(session.sessionId).toBe('orca-0123456789abcdef0');
    const chunks: Buffer[] = [];
    session.stream.on('data', (c: Buffer) => chunks.push(c));
    session.stream.write('i aGVsbG8=\n');
    await until(() => Buffer.concat(chunks).toString() === 'ORCA1 HELLO\nI AGVSBG8=\n');
    agent.closeChannel('Exiting session.');
    await once(session.stream, 'end');
    await session.terminate();
    await session.terminate();
    session.stream.destroy();
    expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input)).toEqual([{ SessionId: 'orca-0123456789abcdef0' }]);
  });

  it('terminates the session when its stream is destroyed', async () => {
    await agentFor('command');
    const session = await manager().startCommand('i-0abc', 'ORCA-Exec-v1', {});
    session.stream.destroy();
    await until(() => ssm.commandCalls(TerminateSessionCommand).length === 1);
  });

  it('refuses a ws:// StreamUrl without the switch, and terminates the session it started', async () => {
    await agentFor('command');
    await expect(manager(false).startCommand('i-0abc', 'ORCA-Exec-v1', {})).rejects.toMatchObject({ kind: 'protocol' });
    expect(ssm.commandCalls(TerminateSessionCommand)).toHaveLength(1);
  });

  it('terminates the session when the data channel cannot be opened', async () => {
    const agent = await fakeAgent('command');
    const url = agent.url;
    await new Promise((r) => { agent.server.close(r); });
    ssm.on(StartSessionCommand).resolves(started(url));
    await expect(manager().startCommand('i-0abc', 'd', {})).rejects.toMatchObject({ kind: 'closed' });
    expect(ssm.commandCalls(TerminateSessionCommand)).toHaveLength(1);
  });

  it('rejects a StartSession answer without a stream URL, terminating what it started', async () => {
    ssm.on(StartSessionCommand).resolves({ SessionId: 's-9', TokenValue: 't' });
    await expect(manager().startCommand('i-0abc', 'd', {})).rejects.toThrow(/returned no SessionId, StreamUrl or TokenValue/);
    expect(ssm.commandCalls(TerminateSessionCommand)[0]?.args[0].input).toEqual({ SessionId: 's-9' });
  });

  it('fails with encryption-unsupported when the account requires KMS, answering the action Unsupported and terminating', async () => {
    const agent = await agentFor('kms');
    const session = await manager().startCommand('i-0abc', 'ORCA-Exec-v1', {});
    const [error] = (await once(session.stream, 'error')) as [SessionError];
    expect(error).toMatchObject({ kind: 'encryption-unsupported', message: expect.stringMatching(/Session Manager preferences require KMS encryption.*not support yet/) as unknown });
    await until(() => agent.inputs.some((m) => m.payloadType === PayloadType.handshakeResponse));
    const response = JSON.parse(agent.inputs.find((m) => m.payloadType === PayloadType.handshakeResponse)?.payload.toString() ?? '{}') as { ProcessedClientActions: { ActionType: string; ActionStatus: number }[] };
    expect(response.ProcessedClientActions.map((a) => [a.ActionType, a.ActionStatus])).toEqual([['SessionType', 1], ['KMSEncryption', 3]]);
    await until(() => ssm.commandCalls(TerminateSessionCommand).length === 1);
  });

  it('never throws from terminate(), logging the failure instead', async () => {
    await agentFor('command');
    ssm.on(TerminateSessionCommand).rejects(awsError('InternalServerError'));
    const session = await manager().startCommand('i-0abc', 'd', {});
    await expect(session.terminate()).resolves.toBeUndefined();
    expect(warnings).toEqual([[expect.objectContaining({ sessionId: 'orca-0123456789abcdef0' }), expect.stringMatching(/TerminateSession failed/)]]);
  });
});

describe('StartSession errors', () => {
  const cases: [string, string, RegExp][] = [
    ['TargetNotConnected', 'not-connected', /^the instance's SSM agent is not connected \(TargetNotConnected\): i-0abc is not connected\.$/],
    ['AccessDeniedException', 'unauthorized', /not allowed to call StartSession \(AccessDeniedException\)/],
    ['InvalidDocument', 'invalid-document', /StartSession refused the Session document/],
    ['InvalidParameters', 'invalid-document', /InvalidParameters/],
    ['ThrottlingException', 'throttled', /StartSession was throttled/],
    ['InternalServerError', 'unknown', /StartSession failed \(InternalServerError\)/],
  ];
  for (const [name, kind, text] of cases) {
    it(`maps ${name} to SessionError('${kind}')`, async () => {
      const cause = awsError(name, name === 'TargetNotConnected' ? 'i-0abc is not connected.' : 'nope');
      ssm.on(StartSessionCommand).rejects(cause);
      const e: unknown = await manager().startCommand('i-0abc', 'd', {}).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SessionError);
      expect(e).toMatchObject({ kind, cause });
      expect((e as SessionError).message).toMatch(text);
    });
  }

  it('rejects with the signal\'s reason when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('kubectl went away'));
    ssm.on(StartSessionCommand).rejects(awsError('AbortError'));
    await expect(manager().startCommand('i-0abc', 'd', {}, ac.signal)).rejects.toThrow('kubectl went away');
  });
});

describe('a port session', () => {
  it('runs AWS-StartPortForwardingSession, completes the handshake and carries connections over smux', async () => {
    const agent = await agentFor('port');
    const session = await manager().startPortForwarding('i-0abc', 8080);
    expect(ssm.commandCalls(StartSessionCommand)[0]?.args[0].input).toEqual({
      Target: 'i-0abc', DocumentName: portForwardingDocument, Parameters: { portNumber: ['8080'], localPortNumber: ['0'] },
    });
    const conns = [session.connect(), session.connect()];
    const got = conns.map((c) => { const chunks: Buffer[] = []; c.on('data', (d: Buffer) => chunks.push(d)); return () => Buffer.concat(chunks).toString(); });
    conns[1]?.end('second');
    conns[0]?.end('first');
    await Promise.all(conns.map((c) => once(c, 'close')));
    expect(got.map((g) => g())).toEqual(['FIRST', 'SECOND']);
    const response = JSON.parse(agent.inputs.find((m) => m.payloadType === PayloadType.handshakeResponse)?.payload.toString() ?? '{}') as { ClientVersion?: string };
    expect(response.ClientVersion).toBe('1.2.677.0');
    await session.terminate();
    await until(() => agent.inputs.some((m) => m.payloadType === PayloadType.flag));
    expect(decodeFlag(agent.inputs.find((m) => m.payloadType === PayloadType.flag)?.payload ?? Buffer.alloc(0))).toBe(2);
    expect(ssm.commandCalls(TerminateSessionCommand)).toHaveLength(1);
  });

  it('fails a connection the agent could not make with "connection refused by the instance"', async () => {
    const agent = await agentFor('port');
    agent.refusedStreams.add(3);
    const session = await manager().startPortForwarding('i-0abc', 5432);
    const conn = session.connect();
    const [error] = (await once(conn, 'error')) as [SessionError];
    expect(error).toMatchObject({ kind: 'closed', message: 'connection refused by the instance (port 5432)' });
    const next = session.connect();
    next.end('ok');
    const chunks: Buffer[] = [];
    next.on('data', (d: Buffer) => chunks.push(d));
    await once(next, 'close');
    expect(Buffer.concat(chunks).toString()).toBe('OK');
    await session.terminate();
  });

  it('refuses a port that is not a TCP port without calling AWS', async () => {
    await expect(manager().startPortForwarding('i-0abc', 70_000)).rejects.toMatchObject({ kind: 'invalid-document' });
    expect(ssm.commandCalls(StartSessionCommand)).toHaveLength(0);
  });
});

const doc = JSON.stringify({ schemaVersion: '1.0', sessionType: 'InteractiveCommands', properties: { linux: { commands: 'exec orca-exec' } } });

describe('ensureDocument', () => {
  it('creates a missing document as a JSON Session document, once per name', async () => {
    ssm.on(GetDocumentCommand).rejects(awsError('InvalidDocument', 'The specified document does not exist.'));
    ssm.on(CreateDocumentCommand).resolves({});
    const m = manager();
    await Promise.all([m.ensureDocument('ORCA-Exec-v1', doc), m.ensureDocument('ORCA-Exec-v1', doc)]);
    await m.ensureDocument('ORCA-Exec-v1', doc);
    expect(ssm.commandCalls(CreateDocumentCommand).map((c) => c.args[0].input)).toEqual([{ Name: 'ORCA-Exec-v1', Content: doc, DocumentType: 'Session', DocumentFormat: 'JSON' }]);
    expect(ssm.commandCalls(GetDocumentCommand)).toHaveLength(1);
  });

  it('leaves a document with the same content alone, however it is spaced', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: JSON.stringify(JSON.parse(doc), null, 2) });
    await manager().ensureDocument('ORCA-Exec-v1', doc);
    expect(ssm.commandCalls(CreateDocumentCommand)).toHaveLength(0);
    expect(ssm.commandCalls(UpdateDocumentCommand)).toHaveLength(0);
  });

  it('replaces different content and makes the new version the default', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: '{"schemaVersion":"1.0","old":true}' });
    ssm.on(UpdateDocumentCommand).resolves({ DocumentDescription: { DocumentVersion: '4' } });
    ssm.on(UpdateDocumentDefaultVersionCommand).resolves({});
    await manager().ensureDocument('ORCA-Exec-v1', doc);
    expect(ssm.commandCalls(UpdateDocumentCommand)[0]?.args[0].input).toEqual({ Name: 'ORCA-Exec-v1', Content: doc, DocumentVersion: '$LATEST', DocumentFormat: 'JSON' });
    expect(ssm.commandCalls(UpdateDocumentDefaultVersionCommand)[0]?.args[0].input).toEqual({ Name: 'ORCA-Exec-v1', DocumentVersion: '4' });
    expect(warnings.map(([, m]) => m)).toEqual([expect.stringMatching(/replaced the content/)]);
  });

  it('makes $LATEST the default when it already holds the content', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: '{"old":true}' });
    ssm.on(UpdateDocumentCommand).rejects(awsError('DuplicateDocumentContent'));
    ssm.on(DescribeDocumentCommand).resolves({ Document: { LatestVersion: '7' } });
    ssm.on(UpdateDocumentDefaultVersionCommand).resolves({});
    await manager().ensureDocument('ORCA-Exec-v1', doc);
    expect(ssm.commandCalls(UpdateDocumentDefaultVersionCommand)[0]?.args[0].input).toEqual({ Name: 'ORCA-Exec-v1', DocumentVersion: '7' });
  });

  it('re-reads the document when another process created it first', async () => {
    ssm.on(GetDocumentCommand).rejectsOnce(awsError('InvalidDocument')).resolves({ Content: doc });
    ssm.on(CreateDocumentCommand).rejects(awsError('DocumentAlreadyExists'));
    await manager().ensureDocument('ORCA-Exec-v1', doc);
    expect(ssm.commandCalls(GetDocumentCommand)).toHaveLength(2);
    expect(ssm.commandCalls(UpdateDocumentCommand)).toHaveLength(0);
  });

  it('maps failures to SessionErrors and does not remember them', async () => {
    ssm.on(GetDocumentCommand).rejectsOnce(awsError('AccessDeniedException')).resolves({ Content: doc });
    const m = manager();
    await expect(m.ensureDocument('ORCA-Exec-v1', doc)).rejects.toMatchObject({ kind: 'unauthorized', message: expect.stringMatching(/GetDocument/) as unknown });
    await expect(m.ensureDocument('ORCA-Exec-v1', doc)).resolves.toBeUndefined();
  });
});

describe('the deps', () => {
  it('take a pino logger as the session log', () => {
    const typed: SessionLog = pino({ level: 'silent' });
    expect(() => new SsmSessionManager({ ssm: new SSMClient({ region: 'us-east-1' }), log: typed })).not.toThrow();
  });
});
