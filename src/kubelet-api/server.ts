// The kubelet API: fastify over HTTPS on the node's daemon port (node.kubeletPort), authenticating
// and authorising every request as a kubelet does (auth.ts), serving the route table (routes.ts).
// Built by a factory without listen(), so unit tests use inject().
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { fastify, LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Pod } from '../domain/pod.js';
import type { Logger } from '../observability/logger.js';
import type { PodSource } from '../ports/kube.js';
import type { ExecCapable, LogsCapable, Provider, StatsCapable } from '../provider/provider.js';
import type { AuthOutcome, KubeletAuth, X509Identity } from './auth.js';
import { containerLogsHandler } from './container-logs.js';
import { abortedOnClose, plainText } from './replies.js';
import { statsHandlers } from './stats-routes.js';
import { StreamServer, type SessionObserver, type StreamSettings } from './stream-server.js';
import { kubeletRoutes, notServedYet, type KubeletRoute, type RouteKind } from './routes.js';
import type { KubeletTls, SecureContextTarget } from './tls.js';

export interface KubeletServerDeps {
  readonly nodeName: string;
  readonly auth: Pick<KubeletAuth, 'check'>;
  /** The pods bound to the node (the informer's cache). */
  readonly pods: Pick<PodSource, 'list' | 'get'> & Partial<Pick<PodSource, 'onChange'>>;
  readonly provider: Pick<Provider, 'listPods'>;
  /** Where container logs are read (absent: the node's provider keeps none). */
  readonly logs?: LogsCapable;
  /** The pods' usage for /stats/summary and /metrics/resource (absent: the provider reports none). */
  readonly stats?: StatsCapable;
  /** exec, attach and port-forward (absent: the provider serves none). */
  readonly streams?: ExecCapable;
  readonly streamSettings?: StreamSettings;
  /** Counts the sessions (ops metrics). */
  readonly observeSessions?: SessionObserver;
  /** When ORCA started: the node's counters count from it. */
  readonly nodeStartTime?: Date;
  readonly now: () => Date;
  readonly log: Logger;
  /** The listener's certificates (kept current on the server as they rotate); absent for inject() tests. */
  readonly tls?: Pick<KubeletTls, 'serverOptions' | 'attach'>;
  /** The x509 identity of the request's TLS connection, verified against the client CA. */
  readonly x509Of?: (req: IncomingMessage) => X509Identity | undefined;
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> | FastifyReply;

const podList = (items: readonly Pod[]): unknown => ({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items });

function handlers(d: KubeletServerDeps): Partial<Record<RouteKind, Handler>> {
  return {
    healthz: (_req, reply) => reply.type('text/plain; charset=utf-8').send('ok'),
    pods: (_req, reply) => reply.send(podList(d.pods.list())),
    runningPods: async (req, reply) => {
      const running = (await d.provider.listPods(abortOn(req))).filter((p) => p.status.phase === 'Running');
      const byUid = new Map(d.pods.list().map((p) => [p.metadata.uid, p]));
      return reply.send(podList(running.flatMap((p) => {
        const pod = byUid.get(p.ref.uid);
        const runningPod: Pod = { metadata: pod?.metadata ?? { namespace: '', name: '', uid: '' }, spec: pod?.spec ?? { containers: [] }, status: { phase: 'Running' } };
        return pod === undefined ? [] : [runningPod];
      })));
    },
    containerLogs: containerLogsHandler({ pods: d.pods, logs: d.logs, now: d.now }),
    ...upgradeOnly,
    ...statsHandlers({ nodeName: d.nodeName, nodeStartTime: d.nodeStartTime ?? d.now(), stats: d.stats }, abortOn),
  };
}

/** A streaming route reached without an upgrade (apimachinery's upgrader words it so). */
const needsUpgrade: Handler = (_req, reply) => plainText(reply, 400, 'unable to upgrade: missing upgrade headers in request');
const upgradeOnly: Partial<Record<RouteKind, Handler>> = { exec: needsUpgrade, attach: needsUpgrade, portForward: needsUpgrade };

/** The kubelet's defaults: 4 h without a frame ends a connection; caps keep instances and ORCA bounded. */
export const defaultStreamSettings: StreamSettings = { idleTimeoutMs: 4 * 3600_000, maxDurationMs: 24 * 3600_000, maxPerPod: 10, maxPerNode: 200 };

const abortOn = (req: FastifyRequest): AbortSignal => abortedOnClose(req).signal;

const notYet = (message: string): Handler => (_req, reply) => reply.code(501).type('text/plain; charset=utf-8').send(message);

/** The kubelet's answers (its InstallAuthFilter): 401 when the caller is unknown or TokenReview failed, 403 denied, 500 when SubjectAccessReview failed. */
function refusal(req: FastifyRequest, reply: FastifyReply, outcome: Exclude<AuthOutcome, { kind: 'ok' }>): FastifyReply {
  const text = (status: number, body: string): FastifyReply => plainText(reply, status, body);
  if (outcome.kind === 'forbidden') return text(403, outcome.message);
  if (outcome.kind === 'error') req.log.warn({ err: outcome.cause, stage: outcome.stage }, 'could not review the kubelet API caller');
  return outcome.kind === 'error' && outcome.stage === 'authorization' ? text(500, outcome.message) : text(401, 'Unauthorized');
}

/** Every request: who is calling (x509, else a bearer token), then may they (SubjectAccessReview). */
async function guard(d: KubeletServerDeps, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const x509 = d.x509Of?.(req.raw);
  const credentials = { ...(x509 === undefined ? {} : { x509 }), ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }) };
  // The path as sent, not normalised: what the router matches is what is authorised.
  const outcome = await d.auth.check(credentials, req.method, req.url, abortOn(req));
  if (outcome.kind !== 'ok') await refusal(req, reply, outcome);
}

function register(app: FastifyInstance, route: KubeletRoute, d: KubeletServerDeps): void {
  const message = notServedYet[route.kind];
  const handler = message === undefined ? handlers(d)[route.kind] : notYet(message);
  if (handler === undefined) throw new Error(`no handler for the kubelet route ${route.url}`);
  app.route({ method: [...route.methods], url: route.url, handler });
}

export function buildKubeletServer(d: KubeletServerDeps): FastifyInstance {
  const log = d.log.child({ component: 'kubelet-api' });
  const app = fastify({
    loggerInstance: log, logController: new LogController({ disableRequestLogging: true }), ...(d.tls === undefined ? {} : { https: d.tls.serverOptions() }),
    // A kubelet's limits (kubelet-protocol.md §3.1): long streams, 1 MiB of headers.
    connectionTimeout: 0, keepAliveTimeout: 90_000, routerOptions: { maxParamLength: 512 }, bodyLimit: 1024 * 1024,
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', (req, reply) => guard(d, req, reply));
  app.setErrorHandler((err, req, reply) => {
    req.log.error({ err, url: req.url }, 'kubelet API request failed');
    return reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error');
  });
  for (const route of kubeletRoutes) register(app, route, d);
  const streams = new StreamServer({
    auth: d.auth, pods: d.pods, log, settings: d.streamSettings ?? defaultStreamSettings,
    ...(d.streams === undefined ? {} : { streams: d.streams }), ...(d.x509Of === undefined ? {} : { x509Of: d.x509Of }),
    ...(d.observeSessions === undefined ? {} : { observe: d.observeSessions }),
  });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { streams.handle({ req, socket, head }); });
  // Upgraded connections would keep the server from closing: their sessions end first.
  app.addHook('preClose', async () => { await streams.close(); });
  // With https options fastify's server is a tls.Server, whatever its typings say.
  d.tls?.attach(app.server as unknown as SecureContextTarget);
  return app;
}
