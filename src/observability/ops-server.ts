// The ops port: /healthz (the process is alive), /readyz (ready to serve: see the Readiness the app
// passes in) and /metrics (Prometheus text). Plain node:http: three routes need no framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface Readiness {
  /** Reasons ORCA is not ready yet; empty when it is. */
  notReadyReasons(): readonly string[];
}

export interface OpsServerDeps {
  readonly registry: Registry;
  readonly readiness: Readiness;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function handle(deps: OpsServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://ops').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    json(res, 405, { status: 'method_not_allowed' });
    return;
  }
  switch (path) {
    case '/healthz':
      json(res, 200, { status: 'ok', service: 'orca' });
      return;
    case '/readyz': {
      const reasons = deps.readiness.notReadyReasons();
      json(res, reasons.length === 0 ? 200 : 503, { status: reasons.length === 0 ? 'ready' : 'not_ready', service: 'orca', reasons });
      return;
    }
    case '/metrics': {
      const text = await deps.registry.metrics();
      res.writeHead(200, { 'content-type': deps.registry.contentType }).end(text);
      return;
    }
    default:
      json(res, 404, { status: 'not_found' });
  }
}

export function createOpsServer(deps: OpsServerDeps): Server {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { status: 'error' });
      else res.destroy();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return server;
}
