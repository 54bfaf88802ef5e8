// The awslogs log driver of the docker stand-in: before the container starts it creates the group
// (with awslogs-create-group=true) and the stream, as docker's driver does (a missing group fails
// `docker run`); then every output line becomes one event of that stream. Docker's driver batches
// for up to 5 s; this one sends every 200 ms, so tests see a line soon after it is written.
import {
  CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand,
  type CloudWatchLogsClient, type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';

export interface AwsLogsTarget {
  readonly group: string;
  readonly stream: string;
  readonly createGroup: boolean;
}

const flushMs = 200;
/** PutLogEvents takes at most 10,000 events per call. */
const batchMax = 10_000;

function unlessExists(e: unknown): void {
  if (!(e instanceof Error && e.name === 'ResourceAlreadyExistsException')) throw e;
}

export class AwsLogsStream {
  readonly #logs: CloudWatchLogsClient;
  readonly #target: AwsLogsTarget;
  readonly #pending: InputLogEvent[] = [];
  #sending: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** The last send that failed, for the stand-in's own log. */
  lastError: string | undefined;

  private constructor(logs: CloudWatchLogsClient, target: AwsLogsTarget) {
    this.#logs = logs;
    this.#target = target;
  }

  static async open(logs: CloudWatchLogsClient, target: AwsLogsTarget): Promise<AwsLogsStream> {
    if (target.createGroup) await logs.send(new CreateLogGroupCommand({ logGroupName: target.group })).catch(unlessExists);
    await logs.send(new CreateLogStreamCommand({ logGroupName: target.group, logStreamName: target.stream })).catch(unlessExists);
    return new AwsLogsStream(logs, target);
  }

  /** One line of the container's output (empty lines are dropped, as docker's driver drops them). */
  line(message: string): void {
    if (message === '') return;
    this.#pending.push({ timestamp: Date.now(), message });
    this.#timer ??= setTimeout(() => { this.#flush(); }, flushMs);
  }

  /** Sends what is left and waits for every send. */
  async close(): Promise<void> {
    this.#flush();
    await this.#sending;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, batchMax);
      this.#sending = this.#sending.then(() => this.#send(batch));
    }
  }

  async #send(logEvents: InputLogEvent[]): Promise<void> {
    try {
      await this.#logs.send(new PutLogEventsCommand({ logGroupName: this.#target.group, logStreamName: this.#target.stream, logEvents }));
    } catch (e) {
      this.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
}
