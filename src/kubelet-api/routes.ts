// The kubelet API's route table, as a kubelet installs it (kubelet-protocol.md §3.2): every route
// the apiserver, metrics-server or a user may call, with the handler ORCA serves it with. A route
// ORCA does not serve yet answers 501 saying so, never 404, so kubectl shows what is missing.
// exec, attach and portForward are upgraded connections (stream-server.ts); a request that does
// not upgrade is answered as a kubelet answers it.
import type { HTTPMethods } from 'fastify';

/** What a route is for: the handler that serves it, chosen by name in server.ts. */
export type RouteKind =
  | 'healthz' | 'pods' | 'runningPods'
  | 'containerLogs' | 'exec' | 'attach' | 'portForward' | 'run'
  | 'statsSummary' | 'metricsResource';

export interface KubeletRoute {
  readonly methods: readonly HTTPMethods[];
  readonly url: string;
  readonly kind: RouteKind;
}

const get = ['GET'] as const satisfies readonly HTTPMethods[];
const stream = ['GET', 'POST'] as const satisfies readonly HTTPMethods[];

export const kubeletRoutes: readonly KubeletRoute[] = [
  { methods: get, url: '/healthz', kind: 'healthz' },
  { methods: get, url: '/healthz/ping', kind: 'healthz' },
  { methods: get, url: '/pods', kind: 'pods' },
  { methods: get, url: '/runningpods/', kind: 'runningPods' },
  { methods: get, url: '/containerLogs/:namespace/:pod/:container', kind: 'containerLogs' },
  { methods: stream, url: '/exec/:namespace/:pod/:container', kind: 'exec' },
  { methods: stream, url: '/exec/:namespace/:pod/:uid/:container', kind: 'exec' },
  { methods: stream, url: '/attach/:namespace/:pod/:container', kind: 'attach' },
  { methods: stream, url: '/attach/:namespace/:pod/:uid/:container', kind: 'attach' },
  { methods: stream, url: '/portForward/:namespace/:pod', kind: 'portForward' },
  { methods: stream, url: '/portForward/:namespace/:pod/:uid', kind: 'portForward' },
  { methods: ['POST'], url: '/run/:namespace/:pod/:container', kind: 'run' },
  { methods: ['POST'], url: '/run/:namespace/:pod/:uid/:container', kind: 'run' },
  { methods: get, url: '/stats/summary', kind: 'statsSummary' },
  { methods: get, url: '/metrics/resource', kind: 'metricsResource' },
];

/** What `kubectl` shows for a route ORCA does not serve yet. */
export const notServedYet: Readonly<Record<RouteKind, string | undefined>> = {
  healthz: undefined,
  pods: undefined,
  runningPods: undefined,
  containerLogs: undefined,
  exec: undefined,
  attach: undefined,
  portForward: undefined,
  run: 'ORCA does not serve run on this node yet',
  statsSummary: undefined,
  metricsResource: undefined,
};
