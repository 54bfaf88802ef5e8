// Builds ORCA's AWS adapters over SDK v3 clients that share one region and endpoint. The SDK's own
// retry strategy (standard mode, 3 attempts) handles throttling and transient errors; EC2's
// capacity errors are not retried (retry.ts).
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '../observability/logger.js';
import type { AssignmentStore } from '../ports/assignments.js';
import type { SessionManager } from '../ports/sessions.js';
import type { LogStore } from '../ports/log-store.js';
import { createCloudWatchLogStore } from './cloudwatch-log-store.js';
import type { InstanceSignals } from '../ports/signals.js';
import type { ImageSource, ReservationSource, SpotPriceHistory, SpotPriceSource } from '../ports/catalog.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import { createEc2Launcher } from './ec2-launcher.js';
import { createImageSource } from './image-source.js';
import { createReservationSource } from './reservation-source.js';
import { NoCapacityRetryStrategy } from './retry.js';
import { createSsmAssignmentStore } from './ssm-assignment-store.js';
import { createSsmSignals } from './ssm-signals.js';
import { createSpotPriceSource } from './spot-price-source.js';
import { SsmSessionManager } from './ssm/index.js';

export interface AwsAdapters {
  readonly launcher: InstanceLauncher;
  readonly images: ImageSource;
  readonly spot: SpotPriceSource & SpotPriceHistory;
  readonly reservations: ReservationSource;
  readonly assignments: AssignmentStore;
  readonly signals: InstanceSignals;
  /** Containers' output (CloudWatch Logs; the SDK's standard retries back off on throttling). */
  readonly logs: LogStore;
  /** Session Manager: exec, attach and port-forward on the instances. */
  readonly sessions: SessionManager;
}

export interface AwsAdapterOptions {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly now: () => Date;
  /** SSM path under which instances' assignments are kept. */
  readonly assignmentPrefix: string;
  readonly log: Logger;
}

/**
 * No AWS call waits forever: a connection must open within 5 s and a request must see data within
 * 30 s (the SDK's retry strategy then decides); shutdown also aborts calls through their signals.
 */
export const requestHandler = { connectionTimeout: 5000, requestTimeout: 30_000 } as const;

export function createAwsAdapters(o: AwsAdapterOptions): AwsAdapters {
  const client = { region: o.region, requestHandler, ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }) };
  const ec2 = new EC2Client({ ...client, retryStrategy: new NoCapacityRetryStrategy() });
  const ssm = new SSMClient(client);
  const logs = createCloudWatchLogStore(new CloudWatchLogsClient(client));
  return {
    logs,
    launcher: createEc2Launcher(ec2), images: createImageSource(ssm, ec2), spot: createSpotPriceSource(ec2, o.now), reservations: createReservationSource(ec2),
    assignments: createSsmAssignmentStore(ssm, { prefix: o.assignmentPrefix }), signals: createSsmSignals(ssm),
    // A plain-HTTP endpoint is an emulator on loopback (tests): its session stand-in serves ws://.
    sessions: new SsmSessionManager({ ssm, log: o.log.child({ component: 'ssm-sessions' }), allowPlainWebSocket: o.endpoint?.startsWith('http://') === true }),
  };
}
