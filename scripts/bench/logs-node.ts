// The ORCA half of the logs benchmark (scripts/bench/logs.ts starts it): ORCA's kubelet API server
// with its real logs service, CloudWatch adapter and read budget against the bed's moto, for a
// fixed set of running pods. Every second it prints one JSON line with its CPU time, RSS, reads
// spent and followers, so the parent measures this process alone.
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { createCloudWatchLogStore } from '../../src/aws/cloudwatch-log-store.js';
import { ConfigSchema } from '../../src/config/schema.js';
import type { Pod } from '../../src/domain/pod.js';
import { buildKubeletServer } from '../../src/kubelet-api/server.js';
import { ContainerLogs } from '../../src/logs/container-logs.js';
import { LogFollowers } from '../../src/logs/followers.js';
import { ReadBudget } from '../../src/logs/read-budget.js';
import { createLogger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/system-clock.js';

const need = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const pods = Number(need('BENCH_PODS'));
const group = need('BENCH_GROUP');
const defaults = ConfigSchema.parse({ aws: { region: 'us-east-1' }, node: { name: 'bench' } }).kubeletApi.logs;

function runningPod(i: number): Pod {
  const name = `p-${String(i).padStart(3, '0')}`;
  return {
    metadata: { namespace: 'bench', name, uid: `uid-${name}` },
    spec: { containers: [{ name: 'main', image: 'img' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] },
  };
}

const byKey = new Map(Array.from({ length: pods }, (_, i) => runningPod(i)).map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
const store = createCloudWatchLogStore(new CloudWatchLogsClient({ region: need('AWS_REGION'), endpoint: need('AWS_ENDPOINT_URL') }));
const budget = new ReadBudget({ clock: systemClock, perSecond: defaults.readsPerSecond, burst: defaults.readBurst });
const log = createLogger('warn');
const followers = new LogFollowers({ store, budget, clock: systemClock, log, group, timings: { pollMs: defaults.followPollSeconds * 1000, lateMs: 15_000, drainMs: 5000 } });
const logs = new ContainerLogs({ store, budget, followers, clock: systemClock, group, streamOf: (t) => `${t.ref.key}/${t.ref.uid}/${t.container}/${String(t.run)}` });
const app = buildKubeletServer({
  nodeName: 'bench', log, now: () => new Date(), logs,
  auth: { check: () => Promise.resolve({ kind: 'ok', identity: { user: 'bench', groups: [], via: 'anonymous' } }) },
  pods: { list: () => [...byKey.values()], get: (k) => byKey.get(k) }, provider: { listPods: () => Promise.resolve([]) },
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdout.on('error', () => { process.exit(0); });
setInterval(() => {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss, reads: budget.spent, followers: followers.active })}\n`);
}, 1000);
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)); });
