// The composition root: builds every adapter, service and server from the Config and wires them.
// No logic lives here; no other module imports it except main.ts.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import type { Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createOpsServer, type Readiness } from './observability/ops-server.js';

export interface AppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly version: string;
}

export interface App {
  /** Serves until `signal` aborts, then shuts down in order. */
  run(signal: AbortSignal): Promise<void>;
}

/** Until the node controller exists, ORCA reports why it is not ready rather than pretending. */
const readiness: Readiness = {
  notReadyReasons: () => ['virtual node not registered'],
};

export function buildApp(deps: AppDeps): App {
  const { config, log } = deps;
  const registry = new Registry();
  const metrics = createMetrics(registry);
  metrics.buildInfo.set({ version: deps.version, nodejs: process.version }, 1);
  metrics.ready.set(0);
  const ops = createOpsServer({ registry, readiness });
  return {
    async run(signal: AbortSignal): Promise<void> {
      ops.listen(config.ops.port, config.ops.host);
      await once(ops, 'listening');
      const addr = ops.address() as AddressInfo;
      log.info({ node: config.node.name, region: config.aws.region, opsPort: addr.port, version: deps.version }, 'orca started');
      if (!signal.aborted) await once(signal, 'abort');
      log.info({ reason: String(signal.reason) }, 'orca stopping');
      ops.close();
      ops.closeAllConnections();
      await once(ops, 'close');
      log.info({}, 'orca stopped');
    },
  };
}
