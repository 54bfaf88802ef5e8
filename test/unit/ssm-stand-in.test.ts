// The Session Manager stand-in (a test double of AWS Session Manager, test/ssm-stand-in/) tested on
// its own, without moto: its codec against the reference's worked example, the agent's UTF-8 filter,
// smux frames, document resolution, the StartSession / TerminateSession answers (directly and through
// the fault proxy with the real SDK), and whole sessions driven by a minimal raw client written for
// these tests (raw-client.ts), independent of both the stand-in's codec and ORCA's client.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SSMClient, StartSessionCommand, TerminateSessionCommand, type GetDocumentCommand, type GetDocumentCommandOutput } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { decode, encode } from '../ssm-stand-in/agent-message.js';
import { planSession } from '../ssm-stand-in/documents.js';
import { frame, json, RawClient, smux, type Msg } from '../ssm-stand-in/raw-client.js';
import { Cmd, FrameReader, SmuxError } from '../ssm-stand-in/smux.js';
import { SessionManagerStandIn, type StandInOptions } from '../ssm-stand-in/stand-in.js';
import { Utf8Filter } from '../ssm-stand-in/utf8-filter.js';

// ---- fixtures ----
const instanceId = 'i-0123456789abcdef0';
const dir = mkdtempSync(join(tmpdir(), 'ssm-stand-in-'));
const instances: StandInOptions['instances'] = (id) => (id === instanceId ? { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'bar' }, dir } : undefined);
/** ORCA-Test runs base64-encoded shell text, the way an exec helper document would. */
const testDocument = {
  schemaVersion: '1.0', sessionType: 'InteractiveCommands',
  parameters: { script: { type: 'String', allowedPattern: '^[A-Za-z0-9+/=]+$' } },
  properties: { linux: { commands: 'eval "$(echo {{ script }} | base64 -d)"' } },
};
const ssm = {
  send: (c: GetDocumentCommand): Promise<GetDocumentCommandOutput> => (c.input.Name === 'ORCA-Test'
    ? Promise.resolve({ Content: JSON.stringify(testDocument), DocumentType: 'Session', $metadata: {} })
    : Promise.reject(Object.assign(new Error('The specified document does not exist.'), { name: 'InvalidDocument' }))),
};
const fast = { outputDelayMs: 0, resendMs: 50, closeGraceMs: 400 };

interface Started { readonly status: number; readonly body: Record<string, string> }
async function start(s: SessionManagerStandIn, req: Record<string, unknown>): Promise<Started> {
  const a = await s.startSession(Buffer.from(JSON.stringify({ Target: instanceId, ...req })));
  return { status: a.status, body: JSON.parse(a.body.toString('utf8')) as Record<string, string> };
}
async function run(s: SessionManagerStandIn, script: string): Promise<{ readonly id: string; readonly client: RawClient }> {
  const { body } = await start(s, { DocumentName: 'ORCA-Test', Parameters: { script: [Buffer.from(script).toString('base64')] } });
  return { id: body.SessionId ?? '', client: await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '') };
}
async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}
/** Whether process `pid` exists at all, zombies included (the relay must reap what it killed). */
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

describe('the stand-in\'s parts', () => {
  it('encodes the reference\'s worked example byte for byte, and decodes it back', () => {
    const payload = Buffer.from('{"cols":80,"rows":24}');
    const m = { messageType: 'input_stream_data', schemaVersion: 1, createdDate: 1_700_000_000_000, sequenceNumber: 0, flags: 0, messageId: '00112233-4455-6677-8899-aabbccddeeff', payloadType: 3, payload };
    const wire = encode(m);
    const reference = `00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d 5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20
      20 20 20 20 00 00 00 01 00 00 01 8b cf e5 68 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      88 99 aa bb cc dd ee ff 00 11 22 33 44 55 66 77 d5 3c a1 ea 7d ce 87 c1 14 32 05 2a 85 50 ed 26
      15 cf 71 5c a8 43 c8 97 10 ed 83 32 5b 69 1c ba 00 00 00 03 00 00 00 15 7b 22 63 6f 6c 73 22 3a
      38 30 2c 22 72 6f 77 73 22 3a 32 34 7d`;
    expect(wire.toString('hex')).toBe(reference.replace(/\s+/g, ''));
    expect(decode(wire)).toEqual({ message: m, problems: [] });
    const broken = Buffer.from(wire);
    broken[0x50] = 0;
    expect(decode(broken).problems).toEqual(['input_stream_data 0: payload digest is not its SHA-256']);
    expect(() => decode(wire.subarray(0, 100))).toThrow('shorter than a header');
  });

  it('filters output as the agent does: EF BF BD becomes EF, a trailing partial rune is held and lost at the end', () => {
    const f = new Utf8Filter();
    expect(f.push(Buffer.from('a\xef\xbf\xbdb\xff\xfe\xfd\xfcz', 'latin1')).toString('latin1')).toBe('a\xefb\xff\xfe');
    expect(f.held.toString('latin1')).toBe('\xfd\xfcz');
    const g = new Utf8Filter();
    expect(g.push(Buffer.from('x\xe2\x82', 'latin1')).toString('latin1')).toBe('x');
    expect(g.push(Buffer.from('\xac!', 'latin1')).toString('utf8')).toBe('€!');
    expect(g.push(Buffer.from('é\xed\xa0\x80', 'latin1')).toString('latin1')).toBe('é');
    expect(g.held.length).toBe(3);
  });

  it('reassembles smux frames from any slicing and refuses what version 1 does not know', () => {
    const r = new FrameReader();
    const bytes = Buffer.concat([smux(Cmd.syn, 3), smux(Cmd.psh, 3, Buffer.from('hello'))]);
    expect(r.push(bytes.subarray(0, 11))).toEqual([{ cmd: Cmd.syn, sid: 3, data: Buffer.alloc(0) }]);
    expect(r.push(bytes.subarray(11))).toEqual([{ cmd: Cmd.psh, sid: 3, data: Buffer.from('hello') }]);
    expect(() => new FrameReader().push(Buffer.from([1, 4, 0, 0, 3, 0, 0, 0]))).toThrow(SmuxError);
    expect(() => new FrameReader().push(Buffer.from([2, 0, 0, 0, 3, 0, 0, 0]))).toThrow('version 2');
  });

  it('resolves documents: defaults, textual substitution, allowed patterns and undeclared parameters', () => {
    const port = { schemaVersion: '1.0', sessionType: 'Port', parameters: { portNumber: { type: 'String', default: '80', allowedPattern: '^[0-9]+$' } }, properties: { portNumber: '{{portNumber}}', type: 'LocalPortForwarding' } };
    expect(planSession(port, {})).toMatchObject({ kind: 'port', port: 80, host: '127.0.0.1', local: true });
    expect(planSession(port, { portNumber: ['8080'] })).toMatchObject({ port: 8080, properties: { portNumber: '8080' } });
    expect(() => planSession(port, { portNumber: ['80; rm -rf /'] })).toThrow(expect.objectContaining({ awsCode: 'InvalidParameters' }) as Error);
    expect(() => planSession(port, { other: ['1'] })).toThrow('not defined in the document');
    expect(planSession(testDocument, { script: ['ZWNobw=='] })).toEqual({ kind: 'shell', sessionType: 'InteractiveCommands', command: 'eval "$(echo ZWNobw== | base64 -d)"' });
    expect(() => planSession(testDocument, {})).toThrow('required');
    expect(() => planSession({ sessionType: 'NonInteractiveCommands' }, {})).toThrow(expect.objectContaining({ awsCode: 'InvalidDocument' }) as Error);
  });
});

describe('the Session Manager stand-in', () => {
  let s: SessionManagerStandIn;
  beforeAll(async () => { s = await SessionManagerStandIn.start({ ssm, instances, ...fast }); });
  afterAll(async () => { await s.stop(); });
  beforeEach(() => { s.faults = {}; s.violations.length = 0; });

  it('refuses StartSession for an instance that is not running, and for a document moto does not have', async () => {
    expect(await start(s, { Target: 'i-00000000000000000' })).toEqual({ status: 400, body: { __type: 'TargetNotConnected', message: 'i-00000000000000000 is not connected.' } });
    expect(await start(s, { DocumentName: 'No-Such-Document' })).toMatchObject({ status: 400, body: { __type: 'InvalidDocument' } });
    expect((await start(s, { DocumentName: 'ORCA-Test', Parameters: { script: ['not base64!'] } })).body.__type).toBe('InvalidParameters');
    expect((await s.startSession(Buffer.from('{'))).status).toBe(400);
  });

  it('answers StartSession and TerminateSession through the fault proxy for the real SDK', async () => {
    const proxy = await FaultProxy.start('http://127.0.0.1:9');
    s.register(proxy);
    const client = new SSMClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      await expect(client.send(new StartSessionCommand({ Target: 'i-00000000000000000' }))).rejects.toMatchObject({ name: 'TargetNotConnected', message: 'i-00000000000000000 is not connected.' });
      const out = await client.send(new StartSessionCommand({ Target: instanceId, DocumentName: 'AWS-StartPortForwardingSession', Parameters: { portNumber: ['8080'] } }));
      expect(out.SessionId).toMatch(/^orca-[0-9a-f]{17}$/);
      expect(out.StreamUrl).toBe(`${s.endpoint}/v1/data-channel/${out.SessionId ?? ''}?role=publish_subscribe&cell-number=AAAA`);
      expect(out.TokenValue?.length).toBeGreaterThan(32);
      expect((await client.send(new TerminateSessionCommand({ SessionId: out.SessionId }))).SessionId).toBe(out.SessionId);
      expect(s.state(out.SessionId ?? '')).toBe('ended');
      expect(proxy.count('AmazonSSM.StartSession')).toBe(2);
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });

  it('runs an InteractiveCommands document under a pty in the instance\'s environment and ends with channel_closed', async () => {
    const before = s.counters;
    const { id, client } = await run(s, 'printf "hi %s in %s\\n" "$FOO" "$(pwd)"; [ -t 0 ] && echo tty; exit 3');
    expect(await client.closed).toBe(1000);
    expect(client.stream.toString()).toBe(`hi bar in ${dir}\r\ntty\r\n`);
    expect(json(client.channelClosed)).toMatchObject({ SessionId: id, MessageType: 'channel_closed', Output: '' });
    expect(s.exitCode(id)).toBe(3);
    expect(s.counters).toMatchObject({ started: before.started + 1, ended: before.ended + 1, open: before.open, terminated: before.terminated });
    expect(s.violations).toEqual([]);
  });

  it('writes client input to the cooked pty, in sequence order, acknowledging each message and re-acknowledging a resend', async () => {
    const { client } = await run(s, 'read line; printf "[%s]\\n" "$line"; read end');
    await sleep(100);
    client.send(1, 'c\r', 1);
    const first = client.send(1, 'ab', 0);
    await client.until('the echo', () => client.stream.toString().endsWith('[abc]\r\n'));
    expect(client.stream.toString()).toBe('abc\r\n[abc]\r\n');
    client.ws.send(first);
    await client.until('the re-ack', () => client.acksOf(0) === 2);
    expect(client.acksOf(1)).toBe(1);
    client.send(1, '\r', 2);
    await client.closed;
    expect(client.stream.toString()).toBe('abc\r\n[abc]\r\n\r\n');
  });

  it('runs sh without a document, and takes input sent before it has started once resent, only once', async () => {
    const { body } = await start(s, {});
    const client = await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '');
    await client.sendReliably(1, 'echo "<$((6 * 7))>"; exit 0\r');
    await client.closed;
    expect(client.stream.toString().match(/<42>/g)).toEqual(['<42>']);
  });

  it('records what a correct client would not send, and still takes the message as the agent does', async () => {
    const { client } = await run(s, 'read x; echo "<$x>"');
    await sleep(100);
    const f = frame('input_stream_data', 0, 1, Buffer.from('d\r'));
    f[100] = (f[100] ?? 0) ^ 0xff;
    client.ws.send(f);
    client.ws.send('{"not":"binary"}');
    await client.closed;
    expect(client.stream.toString()).toBe('d\r\n<d>\r\n');
    expect(s.violations).toEqual([expect.stringMatching(/input_stream_data 0: payload digest is not its SHA-256$/), expect.stringMatching(/text frame after the open-data-channel frame/)]);
  });

  it('takes input faster than the command reads it without stalling the command\'s output', async () => {
    const { client } = await run(s, 'stty raw -echo; echo ready; head -c 300000');
    await client.until('ready', () => client.stream.toString() === 'ready\n');
    for (let i = 0; i < 300; i++) client.send(1, Buffer.alloc(1000, 'x'));
    await client.closed;
    expect(client.stream.toString()).toBe(`ready\n${'x'.repeat(300_000)}`);
  });

  it('resizes the pty on Size payloads, and passes its output through the agent\'s UTF-8 filter', async () => {
    const { client } = await run(s, 'read x; stty size; printf "a\\357\\277\\275b\\342\\202"');
    await sleep(100);
    client.send(3, JSON.stringify({ cols: 123, rows: 45 }));
    client.send(1, '\r');
    await client.closed;
    expect(client.stream.toString('latin1')).toBe('\r\n45 123\r\na\xefb');
  });

  it('resends what is not acknowledged, then closes after its grace period all the same', async () => {
    const before = s.counters.resent;
    const { client } = await run(s, 'echo one');
    client.ack = false;
    await client.closed;
    expect(client.frames.filter((m) => m.type === 'output_stream_data' && m.seq === 0).length).toBeGreaterThan(2);
    expect(s.counters.resent).toBeGreaterThan(before + 1);
  });

  it('delivers everything despite dropped, duplicated and reordered messages', async () => {
    s.faults = { dropEvery: 3, duplicateEvery: 4, reorderEvery: 5 };
    const { client } = await run(s, 'head -c 20000 /dev/zero | tr "\\0" x');
    await client.closed;
    expect(client.stream.toString()).toBe('x'.repeat(20_000));
    const seqs = client.frames.filter((m) => m.type === 'output_stream_data').map((m) => m.seq);
    expect(seqs.some((q, i) => i > 0 && q < (seqs[i - 1] ?? 0))).toBe(true);
    expect(client.ordered.every((m) => m.payload.length <= 1024)).toBe(true);
    expect(client.ordered.map((m) => m.flags)).toEqual([1, ...client.ordered.slice(1).map(() => 0)]);
  });

  it('withholds acknowledgements when told to, and acknowledges the resend', async () => {
    s.faults = { withholdAckEvery: 1 };
    const { client } = await run(s, 'read x; echo "<$x>"; read end');
    await sleep(100);
    const f = client.send(1, 'q\r');
    await client.until('the echo', () => client.stream.toString().includes('<q>'));
    expect(client.acksOf(0)).toBe(0);
    client.ws.send(f);
    await client.until('the ack', () => client.acksOf(0) === 1);
    s.faults = {};
    client.send(1, '\r');
    await client.closed;
    expect(client.stream.toString()).toBe('q\r\n<q>\r\n\r\n');
  });

  it('injects pause_publication and start_publication, holding output in between', async () => {
    const { id, client } = await run(s, 'read x; echo done');
    await client.until('the session', () => s.state(id) === 'open');
    s.pausePublication(id);
    client.send(1, '\r');
    await sleep(300);
    expect(client.frames.map((m) => m.type)).toContain('pause_publication');
    expect(client.stream.length).toBe(0);
    s.startPublication(id);
    await client.closed;
    expect(client.frames.findIndex((m) => m.type === 'start_publication')).toBeLessThan(client.frames.findIndex((m) => m.type === 'output_stream_data'));
    expect(client.stream.toString()).toBe('\r\ndone\r\n');
  });

  it('kills the process on TerminateSession, idempotently', async () => {
    const before = s.counters;
    const { id, client } = await run(s, 'sleep 300 & echo $! > sleep.pid; echo $$ > sh.pid; wait');
    await client.until('the pids', () => existsSync(join(dir, 'sh.pid')) && existsSync(join(dir, 'sleep.pid')) && readFileSync(join(dir, 'sh.pid'), 'utf8').endsWith('\n'));
    const pids = ['sh.pid', 'sleep.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8')));
    expect(pids.every(alive)).toBe(true);
    const body = Buffer.from(JSON.stringify({ SessionId: id }));
    expect(JSON.parse((await s.terminateSession(body)).body.toString())).toEqual({ SessionId: id });
    expect(await client.closed).toBe(1000);
    expect(client.channelClosed).toBeDefined();
    await sleep(100);
    expect(pids.some(alive)).toBe(false);
    expect((await s.terminateSession(body)).status).toBe(200);
    expect(s.counters).toMatchObject({ terminated: before.terminated + 1, ended: before.ended + 1, open: before.open });
  });

  it('refuses a wrong token and a used one', async () => {
    const { body } = await start(s, { DocumentName: 'ORCA-Test', Parameters: { script: ['ZWNobyBvaw=='] } });
    const wrong = await RawClient.open(body.StreamUrl ?? '', 'not-the-token');
    expect(await wrong.closed).toBe(1008);
    expect(wrong.frames).toEqual([]);
    const right = await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '');
    const again = await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '');
    expect(await again.closed).toBe(1008);
    await right.closed;
    expect(right.stream.toString()).toBe('ok\r\n');
  });

  it('kills what runs when it stops', async () => {
    const own = await SessionManagerStandIn.start({ ssm, instances, ...fast });
    const { client } = await run(own, 'echo $$ > own.pid; exec sleep 300');
    await client.until('the pid', () => existsSync(join(dir, 'own.pid')) && readFileSync(join(dir, 'own.pid'), 'utf8').endsWith('\n'));
    const pid = Number(readFileSync(join(dir, 'own.pid'), 'utf8'));
    await own.stop();
    await client.closed;
    await sleep(100);
    expect(alive(pid)).toBe(false);
    expect(own.counters.open).toBe(0);
  });
});

describe('port sessions of the stand-in', () => {
  let s: SessionManagerStandIn;
  let echo: Server;
  let echoPort = 0;
  beforeAll(async () => {
    s = await SessionManagerStandIn.start({ ssm, instances, ...fast });
    echo = createServer((c) => { c.pipe(c); });
    echoPort = await listen(echo);
  });
  afterAll(async () => {
    await s.stop();
    echo.close();
  });

  async function portSession(port: number, clientVersion = '1.2.677.0'): Promise<RawClient> {
    const { body } = await start(s, { DocumentName: 'AWS-StartPortForwardingSession', Parameters: { portNumber: [String(port)] } });
    const client = await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '');
    await client.until('the handshake request', () => client.ordered[0]?.payloadType === 5);
    const response = { ClientVersion: clientVersion, ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }], Errors: null };
    client.send(6, JSON.stringify(response));
    await client.until('the handshake completion', () => client.ordered[1]?.payloadType === 7);
    return client;
  }
  const smuxFrames = (c: RawClient): string[] => new FrameReader().push(c.stream).map((f) => `${f.cmd}:${f.sid}:${f.data.toString()}`);

  it('shakes hands, then serves smux streams to the target port and ends on the TerminateSession flag', async () => {
    const before = s.counters;
    const client = await portSession(echoPort);
    expect(json(client.ordered[0])).toEqual({ AgentVersion: '3.3.1142.0', RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'Port', Properties: { portNumber: String(echoPort), type: 'LocalPortForwarding', localPortNumber: '0' } } }] });
    client.send(1, Buffer.concat([smux(Cmd.syn, 3), smux(Cmd.psh, 3, Buffer.from('hello')), smux(Cmd.syn, 5)]));
    client.send(1, smux(Cmd.psh, 5, Buffer.from('world')));
    await client.until('both echoes', () => smuxFrames(client).length === 2);
    expect(smuxFrames(client).sort()).toEqual(['2:3:hello', '2:5:world']);
    client.send(1, smux(Cmd.fin, 3));
    await client.until('the agent\'s FIN', () => smuxFrames(client).includes('1:3:'));
    const flag = Buffer.alloc(4);
    flag.writeUInt32BE(2);
    client.send(10, flag);
    expect(await client.closed).toBe(1000);
    expect(json(client.channelClosed).Output).toBe('');
    expect(s.counters).toMatchObject({ terminated: before.terminated + 1, open: before.open });
  });

  it('sends ConnectToPortError and FINs the stream when nothing listens on the port', async () => {
    const closed = createServer();
    const port = await listen(closed);
    closed.close();
    const client = await portSession(port);
    client.send(1, smux(Cmd.syn, 3));
    await client.until('the FIN', () => smuxFrames(client).includes('1:3:'));
    const flag = client.ordered.find((m) => m.payloadType === 10);
    expect(flag?.payload.readUInt32BE(0)).toBe(3);
    expect(client.ordered.indexOf(flag as Msg)).toBeLessThan(client.ordered.findIndex((m, i) => i > 1 && m.payloadType === 1));
    client.ws.close();
  });

  it('forwards raw bytes in basic mode for a client older than 1.1.70', async () => {
    const client = await portSession(echoPort, '1.1.0.0');
    await sleep(100);
    client.send(1, Buffer.from('raw bytes \x00\xff', 'latin1'));
    await client.until('the echo', () => client.stream.toString('latin1') === 'raw bytes \x00\xff');
    client.ws.close();
  });

});

describe('the stand-in with other timings', () => {
  let s: SessionManagerStandIn;
  beforeAll(async () => { s = await SessionManagerStandIn.start({ ssm, instances, ...fast, outputDelayMs: 600, tokenTtlMs: 300, handshakeTimeoutMs: 300 }); });
  afterAll(async () => { await s.stop(); });

  it('waits before pumping output, as the agent\'s 1 s start delay', async () => {
    const t0 = Date.now();
    const { client } = await run(s, 'echo now');
    await client.until('output', () => client.stream.length > 0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    await client.closed;
  });

  it('refuses a token after its lifetime', async () => {
    const { body } = await start(s, {});
    await sleep(350);
    expect(await (await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '')).closed).toBe(1008);
  });

  it('ends a port session when the handshake response does not come', async () => {
    const { body } = await start(s, { DocumentName: 'AWS-StartPortForwardingSession' });
    const client = await RawClient.open(body.StreamUrl ?? '', body.TokenValue ?? '');
    await client.closed;
    expect(json(client.channelClosed).Output).toMatch(/^Handshake timed out/);
    expect(s.counters).toMatchObject({ open: 0, ended: 3 });
  });
});
