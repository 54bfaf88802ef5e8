// exec, attach and port-forward: the upgraded requests of the kubelet API. Node hands upgrade
// requests to the server's 'upgrade' event, not to fastify's routes, so this checks them as the rest
// of the API is checked — the caller authenticated and authorised (auth.ts), the pod on this node,
// the container running, the session caps — answers a refusal as a kubelet does, and otherwise
// upgrades (stream-transports.ts) and runs the session through the provider.
import type { IncomingMessage } from 'node:http';
import { SessionError, StreamRefusedError } from '../domain/errors.js';
import { podKey, refOf, type Pod, type PodKey } from '../domain/pod.js';
import type { Logger } from '../observability/logger.js';
import type { PodSource } from '../ports/kube.js';
import type { ExecCapable, ExecOutcome, ExecRequest } from '../provider/provider.js';
import type { AuthOutcome, KubeletAuth, X509Identity } from './auth.js';
import { SessionLimits, type SessionCaps } from './streams/limits.js';
import type { PortConnection } from './streams/model.js';
import { execRequest, queryPorts, runningContainer, streamPath, streamPod, type StreamPath, type StreamRefusal } from './streams/stream-request.js';
import { StreamTransports, type Upgrade } from './stream-transports.js';
import { refuseUpgrade } from './upgrade-refusal.js';

export interface StreamSettings extends SessionCaps {
  readonly idleTimeoutMs: number;
  /** A session is ended after this long, whatever it does. */
  readonly maxDurationMs: number;
}

/** Where sessions are counted (the ops metrics). */
export interface SessionObserver {
  opened(kind: StreamPath['kind']): void;
  /** exited (code 0), nonzero, failed (the session could not run or broke), closed (port-forward). */
  ended(kind: StreamPath['kind'], outcome: 'exited' | 'nonzero' | 'failed' | 'closed'): void;
}

const unobserved: SessionObserver = { opened: () => undefined, ended: () => undefined };

const outcomeOf = (o: ExecOutcome): 'exited' | 'nonzero' | 'failed' => {
  if (o.kind === 'failed') return 'failed';
  return o.code === 0 ? 'exited' : 'nonzero';
};

export interface StreamServerDeps {
  readonly auth: Pick<KubeletAuth, 'check'>;
  /** The node's pods; with onChange, a session ends when its container stops running or its pod goes. */
  readonly pods: Pick<PodSource, 'get'> & Partial<Pick<PodSource, 'onChange'>>;
  /** Absent: the node's provider serves no streams (every request is answered 501). */
  readonly streams?: ExecCapable;
  readonly x509Of?: (req: IncomingMessage) => X509Identity | undefined;
  readonly settings: StreamSettings;
  readonly observe?: SessionObserver;
  readonly log: Logger;
}

interface Admitted {
  readonly path: StreamPath;
  readonly pod: Pod;
  readonly streams: ExecCapable;
  readonly release: () => void;
  /** Aborts when the pod goes, or (exec, attach) its container stops running. */
  readonly podEnded: AbortSignal;
}

/** A session's watch on its pod. */
interface Watch {
  readonly path: StreamPath;
  readonly uid: string;
  readonly stop: AbortController;
}

/** Whether the session of `w` may go on with the pod as it is now. */
function stillThere(w: Watch, pod: Pod | undefined): boolean {
  if (pod?.metadata.uid !== w.uid) return false;
  return w.path.container === undefined || runningContainer(pod, w.path.container).ok;
}

const isRefusal = (v: object): v is StreamRefusal => 'status' in v && 'message' in v;

/** The kubelet's answers: 401 when the caller is unknown, 403 denied, 500 when SubjectAccessReview failed. */
function authStatus(outcome: Exclude<AuthOutcome, { kind: 'ok' }>): StreamRefusal {
  if (outcome.kind === 'forbidden') return { status: 403, message: outcome.message };
  if (outcome.kind === 'error' && outcome.stage === 'authorization') return { status: 500, message: outcome.message };
  return { status: 401, message: 'Unauthorized' };
}

/** What kubectl shows when the session failed (a kubelet's "error executing command in container"). */
function failureOf(e: unknown): ExecOutcome {
  if (e instanceof StreamRefusedError || e instanceof SessionError) return { kind: 'failed', message: e.message };
  return { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
}

export class StreamServer {
  readonly #d: StreamServerDeps;
  readonly #limits: SessionLimits;
  readonly #transports: StreamTransports;
  readonly #log: Logger;
  readonly #watches = new Map<string, Set<Watch>>();
  readonly #observe: SessionObserver;
  readonly #sockets = new Set<Upgrade['socket']>();

  constructor(d: StreamServerDeps) {
    this.#d = d;
    this.#observe = d.observe ?? unobserved;
    d.pods.onChange?.((key) => { this.#podChanged(key); });
    this.#log = d.log.child({ component: 'kubelet-streams' });
    this.#limits = new SessionLimits(d.settings);
    this.#transports = new StreamTransports({ idleTimeoutMs: d.settings.idleTimeoutMs, log: this.#log });
  }

  /** Sessions open now. */
  get open(): number {
    return this.#limits.open;
  }

  /** The server's 'upgrade' listener. */
  handle(u: Upgrade): void {
    this.#sockets.add(u.socket);
    u.socket.once('close', () => { this.#sockets.delete(u.socket); });
    u.socket.on('error', (err) => { this.#log.debug({ err }, 'stream connection failed'); });
    void this.#serve(u).catch((err: unknown) => {
      this.#log.error({ err, url: u.req.url }, 'stream request failed');
      refuseUpgrade(u.socket, 500, 'Internal Server Error');
    });
  }

  /**
   * ORCA is stopping: every session ends (its process is signalled, its Session Manager session
   * terminated), and a connection still open after `graceMs` is cut, so the server can close.
   */
  async close(graceMs = 2000): Promise<void> {
    for (const set of this.#watches.values()) for (const w of set) w.stop.abort(new Error('ORCA is stopping'));
    const open = [...this.#sockets];
    const closed = Promise.all(open.map((s) => (s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => { s.once('close', () => { resolve(); }); }))));
    let timer: NodeJS.Timeout | undefined = undefined;
    await Promise.race([closed, new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); })]);
    clearTimeout(timer);
    for (const s of this.#sockets) s.destroy();
  }

  async #serve(u: Upgrade): Promise<void> {
    const url = new URL(u.req.url ?? '/', 'https://kubelet.invalid');
    const admitted = await this.#admit(u, url);
    if (isRefusal(admitted)) {
      refuseUpgrade(u.socket, admitted.status, admitted.message);
      return;
    }
    try {
      if (admitted.path.kind === 'portForward') await this.#portForward(u, url, admitted);
      else await this.#remoteCommand(u, url, admitted);
    } finally {
      admitted.release();
    }
  }

  /** Who is calling (x509, else a bearer token), then may they (SubjectAccessReview): undefined when they may. */
  async #authorize(u: Upgrade): Promise<StreamRefusal | undefined> {
    const x509 = this.#d.x509Of?.(u.req);
    const authorization = u.req.headers.authorization;
    const credentials = { ...(x509 === undefined ? {} : { x509 }), ...(authorization === undefined ? {} : { authorization }) };
    const outcome = await this.#d.auth.check(credentials, u.req.method ?? 'GET', u.req.url ?? '/');
    return outcome.kind === 'ok' ? undefined : authStatus(outcome);
  }

  async #admit(u: Upgrade, url: URL): Promise<Admitted | StreamRefusal> {
    const path = streamPath(url.pathname);
    if (path === undefined) return { status: 404, message: '404 page not found' };
    const denied = await this.#authorize(u);
    if (denied !== undefined) return denied;
    const streams = this.#d.streams;
    if (streams === undefined) return { status: 500, message: `the node's provider serves no ${path.kind}` };
    const pod = streamPod(path, this.#d.pods.get(podKey(path.namespace, path.pod)));
    if (!pod.ok) return pod.error;
    if (path.container !== undefined) {
      const running = runningContainer(pod.value, path.container);
      if (!running.ok) return running.error;
    }
    const place = this.#limits.acquire(pod.value.metadata.uid, `${path.namespace}/${path.pod}`);
    if (isRefusal(place)) return place;
    const watch = this.#watch(path, pod.value.metadata.uid);
    return { path, pod: pod.value, streams, release: () => { place.release(); this.#unwatch(watch); }, podEnded: watch.stop.signal };
  }

  #watch(path: StreamPath, uid: string): Watch {
    const w: Watch = { path, uid, stop: new AbortController() };
    const key = podKey(path.namespace, path.pod);
    const set = this.#watches.get(key) ?? new Set<Watch>();
    set.add(w);
    this.#watches.set(key, set);
    return w;
  }

  #unwatch(w: Watch): void {
    const key = podKey(w.path.namespace, w.path.pod);
    const set = this.#watches.get(key);
    set?.delete(w);
    if (set?.size === 0) this.#watches.delete(key);
  }

  /** The pod changed: sessions whose container stopped, or whose pod went, end (as a kubelet's do). */
  #podChanged(key: PodKey): void {
    const set = this.#watches.get(key);
    if (set === undefined) return;
    const pod = this.#d.pods.get(key);
    for (const w of set) if (!stillThere(w, pod)) w.stop.abort(new Error('the container stopped running or the pod is gone'));
  }

  async #remoteCommand(u: Upgrade, url: URL, a: Admitted): Promise<void> {
    const request = execRequest(a.path, url.searchParams);
    if (!request.ok) {
      refuseUpgrade(u.socket, request.error.status, request.error.message);
      return;
    }
    const channel = await this.#transports.remoteCommand(u, request.value);
    if (channel === undefined) return;
    const signal = this.#sessionSignal(channel.closed, a);
    const log = this.#log.child({ pod: `${a.path.namespace}/${a.path.pod}`, container: request.value.container, kind: a.path.kind });
    const started = Date.now();
    this.#observe.opened(a.path.kind);
    const outcome = await this.#run(a, request.value, channel.io, signal).catch(failureOf);
    this.#observe.ended(a.path.kind, outcomeOf(outcome));
    log.info({ outcome, ms: Date.now() - started }, `${a.path.kind} ended`);
    await channel.finish(outcome);
  }

  /** Aborts when the client goes, the pod or its container ends, or the session has run its longest. */
  #sessionSignal(closed: AbortSignal, a: Admitted): AbortSignal {
    return AbortSignal.any([closed, a.podEnded, AbortSignal.timeout(this.#d.settings.maxDurationMs)]);
  }

  #run(a: Admitted, request: ExecRequest, io: Parameters<ExecCapable['exec']>[2], signal: AbortSignal): Promise<ExecOutcome> {
    const ref = refOf(a.pod);
    return a.path.kind === 'attach' ? a.streams.attach(ref, request, io, signal) : a.streams.exec(ref, request, io, signal);
  }

  async #portForward(u: Upgrade, url: URL, a: Admitted): Promise<void> {
    const ports = queryPorts(url.searchParams);
    if (!ports.ok) {
      refuseUpgrade(u.socket, ports.error.status, ports.error.message);
      return;
    }
    const channel = await this.#transports.portForward(u, ports.value);
    if (channel === undefined) return;
    const signal = this.#sessionSignal(channel.closed, a);
    const ref = refOf(a.pod);
    const forwarder = a.streams.portForwarder(ref, signal);
    // Its failure is each connection's (below); nothing is left unhandled when none comes.
    forwarder.catch(() => undefined);
    const failed = (c: PortConnection, e: unknown): void => {
      c.fail(`error forwarding port ${String(c.port)} to pod ${a.pod.metadata.name}, uid ${ref.uid}: ${e instanceof Error ? e.message : String(e)}`);
    };
    channel.onConnection((c) => {
      void forwarder.then((f) => f.forward(c.port, c.data)).then(() => { c.data.end(); }, (e: unknown) => { failed(c, e); });
    });
    this.#observe.opened('portForward');
    // The request lasts as long as its connection; then everything it opened on the instance ends.
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
    await forwarder.catch(() => undefined);
    await channel.close();
    this.#observe.ended('portForward', 'closed');
  }
}
