// exec, attach and port-forward on the EC2 provider's pods: each through Session Manager, the only
// path into an instance. exec and attach start one command session per request with ORCA's Session
// document, which runs the exec helper (delivered in the session, agent-protocol/exec-helper.ts)
// on the instance's pty; the helper runs `docker exec` or `docker attach` on the container's
// current run (the agent names runs orca-<container>-<restart count>). port-forward starts one port
// session per forwarded port of a request, each connection one smux stream; all of them end with it.
import type { Duplex } from 'node:stream';
import { StreamRefusedError } from '../domain/errors.js';
import type { PodRef } from '../domain/pod.js';
import type { Logger } from '../observability/logger.js';
import type { PortSession, SessionManager } from '../ports/sessions.js';
import type { ContainerIo, ExecCapable, ExecOutcome, ExecRequest, PortForwarder } from '../provider/provider.js';
import type { AgentContainer } from '../agent-protocol/agent-state.js';
import { runExecHelper } from '../agent-protocol/exec-client.js';
import { EXEC_DOCUMENT_CONTENT, EXEC_DOCUMENT_NAME } from '../agent-protocol/exec-helper.js';

/** Where a pod runs now: its instance and what its agent last reported of its containers. */
export interface PodPlace {
  readonly instanceId: string;
  readonly containers: ReadonlyMap<string, AgentContainer>;
}

export interface ContainerSessionsDeps {
  /** The pod's instance, if it has a live one (the pod table). */
  readonly placeOf: (uid: string) => PodPlace | undefined;
  readonly sessions: SessionManager;
  /** The exec helper's source (agent/orca-exec.py), sent at the start of every exec and attach. */
  readonly helperSource: string;
  readonly log: Logger;
}

/** The docker name of the container's current run, or the kubelet's refusal. */
function runName(place: PodPlace | undefined, container: string): { readonly instanceId: string; readonly name: string } {
  const c = place?.containers.get(container);
  if (place === undefined || c?.state !== 'running') throw new StreamRefusedError(500, `container not found ("${container}")`);
  return { instanceId: place.instanceId, name: `orca-${container}-${String(c.restarts)}` };
}

/** Pipes a client connection and an instance connection both ways; settles when both sides have closed. */
function splice(client: Duplex, remote: Duplex): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let open = 2;
    const done = (): void => {
      open--;
      if (open === 0) resolve();
    };
    remote.once('error', (e) => { client.destroy(); reject(e); });
    client.once('error', () => { remote.destroy(); });
    client.pipe(remote);
    remote.pipe(client);
    remote.once('close', done);
    client.once('close', () => { remote.end(); done(); });
  });
}

interface Run {
  readonly mode: 'exec' | 'attach';
  readonly ref: PodRef;
  readonly request: ExecRequest;
  readonly io: ContainerIo;
  readonly signal: AbortSignal;
}

export class ContainerSessions implements ExecCapable {
  readonly #d: ContainerSessionsDeps;
  readonly #log: Logger;

  constructor(d: ContainerSessionsDeps) {
    this.#d = d;
    this.#log = d.log.child({ component: 'container-sessions' });
  }

  exec(ref: PodRef, request: ExecRequest, io: ContainerIo, signal: AbortSignal): Promise<ExecOutcome> {
    return this.#run({ mode: 'exec', ref, request, io, signal });
  }

  attach(ref: PodRef, request: ExecRequest, io: ContainerIo, signal: AbortSignal): Promise<ExecOutcome> {
    return this.#run({ mode: 'attach', ref, request, io, signal });
  }

  portForwarder(ref: PodRef, signal: AbortSignal): Promise<PortForwarder> {
    const place = this.#d.placeOf(ref.uid);
    if (place === undefined) return Promise.reject(new StreamRefusedError(404, 'pod does not exist'));
    const ports = new Map<number, Promise<PortSession>>();
    const log = this.#log.child({ pod: ref.key, instanceId: place.instanceId });
    signal.addEventListener('abort', () => {
      for (const s of ports.values()) void s.then((p) => p.terminate(), () => undefined);
    }, { once: true });
    const sessionFor = (port: number): Promise<PortSession> => {
      let s = ports.get(port);
      if (s === undefined) {
        s = this.#d.sessions.startPortForwarding(place.instanceId, port, signal);
        // A session that failed to start is tried again by the next connection.
        s.catch((err: unknown) => { ports.delete(port); log.warn({ err, port }, 'port session did not start'); });
        ports.set(port, s);
      }
      return s;
    };
    return Promise.resolve({ forward: async (port, connection) => splice(connection, (await sessionFor(port)).connect()) });
  }

  async #run({ mode, ref, request, io, signal }: Run): Promise<ExecOutcome> {
    const { instanceId, name } = runName(this.#d.placeOf(ref.uid), request.container);
    const { sessions } = this.#d;
    await sessions.ensureDocument(EXEC_DOCUMENT_NAME, EXEC_DOCUMENT_CONTENT, signal);
    const session = await sessions.startCommand(instanceId, EXEC_DOCUMENT_NAME, {}, signal);
    // The session's stream fails with a SessionError when the channel breaks, also after the helper
    // is done with it: that must never be an unhandled 'error'.
    session.stream.on('error', (err) => { this.#log.debug({ err, sessionId: session.sessionId }, 'session stream ended with an error'); });
    this.#log.debug({ pod: ref.key, instanceId, sessionId: session.sessionId, mode }, 'session started');
    try {
      return await runExecHelper({
        stream: session.stream, helperSource: this.#d.helperSource, io, signal,
        spec: { mode, container: name, argv: request.command, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr, tty: request.tty },
      });
    } finally {
      await session.terminate();
    }
  }
}
