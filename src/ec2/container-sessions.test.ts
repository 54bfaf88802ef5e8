import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SessionError, StreamRefusedError } from '../domain/errors.js';
import type { PodKey } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import type { CommandSession, PortSession, SessionManager } from '../ports/sessions.js';
import type { AgentContainer } from '../agent-protocol/agent-state.js';
import { EXEC_DOCUMENT_CONTENT, EXEC_DOCUMENT_NAME } from '../agent-protocol/exec-helper.js';
import { ContainerSessions, type PodPlace } from './container-sessions.js';

const ref = { key: 'ns/web' as PodKey, uid: 'u1' };
const request = { container: 'main', command: ['true'], stdin: false, stdout: true, stderr: true, tty: false };
const container = (state: AgentContainer['state'], restarts = 0): AgentContainer => ({ name: 'main', state, restarts });

interface Calls { documents: string[]; commands: string[]; ports: number[]; terminated: string[]; connects: number }

/** A Session Manager whose command sessions end at once (the helper never greets) and whose port sessions echo. */
function fakeSessions(o: { failPorts?: number } = {}): { manager: SessionManager; calls: Calls } {
  const calls: Calls = { documents: [], commands: [], ports: [], terminated: [], connects: 0 };
  let failures = o.failPorts ?? 0;
  const manager: SessionManager = {
    ensureDocument: (name, content) => { calls.documents.push(`${name}:${String(content === EXEC_DOCUMENT_CONTENT)}`); return Promise.resolve(); },
    startCommand: (instanceId, document) => {
      calls.commands.push(`${instanceId}:${document}`);
      // What the agent's pty said, then its end; our side stays open, as a data channel's does.
      const stream = new Duplex({ allowHalfOpen: true, read() { /* pushed below */ }, write(_c, _e, cb) { cb(); } });
      stream.push('sh: 1: python3: not found\r\n');
      stream.push(null);
      // As the data channel does when it breaks: the stream fails, here after the session is over.
      const terminate = (): Promise<void> => {
        calls.terminated.push('s-1');
        setImmediate(() => { stream.destroy(new SessionError('closed', 'the data channel broke')); });
        return Promise.resolve();
      };
      const s: CommandSession = { sessionId: 's-1', stream, terminate };
      return Promise.resolve(s);
    },
    startPortForwarding: (instanceId, port) => {
      calls.ports.push(port);
      if (failures > 0) {
        failures--;
        return Promise.reject(new SessionError('not-connected', `${instanceId} is not connected`));
      }
      const s: PortSession = {
        sessionId: `p-${String(port)}`,
        connect: () => { calls.connects++; return port === 1 ? refused() : echo(); },
        terminate: () => { calls.terminated.push(`p-${String(port)}`); return Promise.resolve(); },
      };
      return Promise.resolve(s);
    },
  };
  return { manager, calls };
}

function echo(): Duplex {
  const d = new PassThrough();
  return d;
}

function refused(): Duplex {
  const d = new Duplex({ read() { /* nothing comes */ }, write(_c, _e, cb) { cb(); } });
  setImmediate(() => d.destroy(new SessionError('closed', 'connection refused by the instance (port 1)')));
  return d;
}

function sessions(place: PodPlace | undefined, o: { failPorts?: number } = {}) {
  const fake = fakeSessions(o);
  return { s: new ContainerSessions({ placeOf: () => place, sessions: fake.manager, helperSource: 'print("hi")', log: createLogger('silent') }), calls: fake.calls };
}

const running = (restarts = 0): PodPlace => ({ instanceId: 'i-1', containers: new Map([['main', container('running', restarts)]]) });

describe('ContainerSessions exec and attach', () => {
  it('refuses, starting nothing, a pod without an instance or a container that does not run', async () => {
    for (const place of [undefined, { instanceId: 'i-1', containers: new Map([['main', container('waiting')]]) }, { instanceId: 'i-1', containers: new Map() }]) {
      const { s, calls } = sessions(place);
      const run = s.exec(ref, request, {}, new AbortController().signal);
      await expect(run).rejects.toBeInstanceOf(StreamRefusedError);
      await expect(run).rejects.toThrow('container not found ("main")');
      expect(calls.commands).toEqual([]);
    }
  });

  it('starts one session on the pod\'s instance with ORCA\'s document, and terminates it when the helper cannot start', async () => {
    const { s, calls } = sessions(running(2));
    const outcome = await s.attach(ref, { ...request, command: [] }, {}, new AbortController().signal);
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' ? outcome.message : '').toContain('python3: not found');
    expect(calls).toMatchObject({ documents: [`${EXEC_DOCUMENT_NAME}:true`], commands: [`i-1:${EXEC_DOCUMENT_NAME}`], terminated: ['s-1'] });
    // The stream's late failure is handled (an unhandled 'error' would fail this file).
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
});

describe('ContainerSessions port-forward', () => {
  const pipeOnce = async (forward: (port: number, c: Duplex) => Promise<void>, port: number): Promise<string> => {
    const [client, ours] = duplexPair();
    const done = forward(port, ours);
    // As the kubelet API does: a failed connection's streams are closed (and the reason written).
    done.catch(() => { client.destroy(); });
    client.end('hello');
    let got = '';
    const read = (async () => { for await (const chunk of client) got += String(chunk); })().catch(() => undefined);
    await done;
    await read;
    return got;
  };

  it('starts one port session per port for all of a request\'s connections, and ends them with the request', async () => {
    const { s, calls } = sessions(running());
    const stop = new AbortController();
    const f = await s.portForwarder(ref, stop.signal);
    expect(await pipeOnce((p, c) => f.forward(p, c), 8080)).toBe('hello');
    expect(await pipeOnce((p, c) => f.forward(p, c), 8080)).toBe('hello');
    expect(await pipeOnce((p, c) => f.forward(p, c), 9090)).toBe('hello');
    expect([calls.ports, calls.connects]).toEqual([[8080, 9090], 3]);
    stop.abort();
    await expect.poll(() => [...calls.terminated].sort()).toEqual(['p-8080', 'p-9090']);
  });

  it('passes on why a connection failed, and tries a session that did not start again', async () => {
    const { s, calls } = sessions(running(), { failPorts: 1 });
    const f = await s.portForwarder(ref, new AbortController().signal);
    await expect(pipeOnce((p, c) => f.forward(p, c), 8080)).rejects.toThrow('is not connected');
    expect(await pipeOnce((p, c) => f.forward(p, c), 8080)).toBe('hello');
    await expect(pipeOnce((p, c) => f.forward(p, c), 1)).rejects.toThrow('connection refused by the instance (port 1)');
    expect(calls.ports).toEqual([8080, 8080, 1]);
  });

  it('refuses a pod without an instance', async () => {
    const { s } = sessions(undefined);
    await expect(s.portForwarder(ref, new AbortController().signal)).rejects.toThrow('pod does not exist');
  });
});

/** Two connected Duplexes: what one writes the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const aIn = new PassThrough();
  const bIn = new PassThrough();
  const a = Duplex.from({ readable: aIn, writable: bIn });
  const b = Duplex.from({ readable: bIn, writable: aIn });
  // Closing one side aborts the other's halves: that is how the test ends a connection, not a failure.
  for (const d of [a, b]) d.on('error', () => undefined);
  return [a, b];
}
