// GET /stats/summary and /metrics/resource: the provider's usage samples in the kubelet's shapes
// (stats-summary.ts, resource-metrics.ts), for metrics-server and `kubectl top`. A provider without
// usage keeps the routes at 501; /metrics/resource answers a failed read as a kubelet does, with
// resource_scrape_error 1.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StatsCapable } from '../provider/provider.js';
import { plainText } from './replies.js';
import { resourceMetrics, resourceMetricsContentType } from './resource-metrics.js';
import { statsSummary } from './stats-summary.js';

export interface StatsRouteDeps {
  readonly nodeName: string;
  readonly nodeStartTime: Date;
  readonly stats: StatsCapable | undefined;
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

const noStats = (reply: FastifyReply): FastifyReply => plainText(reply, 501, 'this node\'s provider reports no usage');

export function statsHandlers(d: StatsRouteDeps, signalOf: (req: FastifyRequest) => AbortSignal): { readonly statsSummary: Handler; readonly metricsResource: Handler } {
  return {
    statsSummary: async (req, reply) => {
      if (d.stats === undefined) return noStats(reply);
      const samples = await d.stats.podStats(signalOf(req));
      return reply.send(statsSummary({ nodeName: d.nodeName, nodeStartTime: d.nodeStartTime, samples }));
    },
    metricsResource: async (req, reply) => {
      if (d.stats === undefined) return noStats(reply);
      const samples = await d.stats.podStats(signalOf(req)).catch((err: unknown) => {
        req.log.warn({ err }, 'could not read the pods\' usage for /metrics/resource');
        return undefined;
      });
      return reply.type(resourceMetricsContentType).send(resourceMetrics(samples));
    },
  };
}
