// A fault-injecting proxy in front of moto (a test component, never shipped). It forwards every AWS
// call unchanged, counts them by action, and adds what moto lacks: capacity errors per offering
// (instance type × subnet × market), throttling, ClientToken idempotency for RunInstances, and
// canned capacity reservations. EC2 speaks the Query protocol: form-encoded Action=…, XML errors.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  readonly action: string;
  /** Query parameters that must all match, e.g. { InstanceType: 'p5.48xlarge', 'InstanceMarketOptions.MarketType': 'spot' }. */
  readonly match?: Readonly<Record<string, string>>;
  /** AWS error code to answer with. */
  readonly error: string;
  /** How many matching calls fail; unlimited when absent. */
  times?: number;
}

export interface CapacityReservation {
  readonly id: string;
  readonly instanceType: string;
  readonly zone: string;
  readonly available: number;
}

const serverErrors: ReadonlyMap<string, number> = new Map([
  ['InsufficientInstanceCapacity', 500], ['InsufficientCapacityOnHost', 500], ['RequestLimitExceeded', 503], ['InternalError', 500],
]);

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${code} (injected by the test fault proxy)</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
}

function reservationsXml(list: readonly CapacityReservation[]): string {
  const items = list.map((r) => `<item><capacityReservationId>${r.id}</capacityReservationId><instanceType>${r.instanceType}</instanceType><availabilityZone>${r.zone}</availabilityZone><availableInstanceCount>${r.available}</availableInstanceCount><state>active</state></item>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeCapacityReservationsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomUUID()}</requestId><capacityReservationSet>${items}</capacityReservationSet></DescribeCapacityReservationsResponse>`;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class FaultProxy {
  readonly rules: FaultRule[] = [];
  readonly reservations: CapacityReservation[] = [];
  /** Calls seen, by action (EC2 Action or the X-Amz-Target of JSON protocols). */
  readonly calls = new Map<string, number>();
  /** Every RunInstances call's parameters, in order. */
  readonly runInstances: Record<string, string>[] = [];
  readonly #byToken = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  readonly #server: Server;
  readonly #target: URL;

  private constructor(target: string) {
    this.#target = new URL(target);
    this.#server = createServer((req, res) => { void this.#handle(req, res); });
  }

  static async start(target: string): Promise<FaultProxy & { readonly url: string }> {
    const p = new FaultProxy(target);
    p.#server.listen(0, '127.0.0.1');
    await once(p.#server, 'listening');
    return Object.assign(p, { url: `http://127.0.0.1:${(p.#server.address() as AddressInfo).port}` });
  }

  count(action: string): number {
    return this.calls.get(action) ?? 0;
  }

  reset(): void {
    this.rules.length = 0;
    this.reservations.length = 0;
    this.calls.clear();
    this.runInstances.length = 0;
    this.#byToken.clear();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #fault(action: string, params: URLSearchParams): string | undefined {
    const rule = this.rules.find((r) => r.action === action && (r.times === undefined || r.times > 0)
      && Object.entries(r.match ?? {}).every(([k, v]) => params.get(k) === v));
    if (rule === undefined) return undefined;
    if (rule.times !== undefined) rule.times--;
    return rule.error;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await body(req);
    const target = req.headers['x-amz-target'];
    const params = new URLSearchParams(typeof target === 'string' ? '' : raw.toString());
    const action = typeof target === 'string' ? target : params.get('Action') ?? 'unknown';
    this.calls.set(action, this.count(action) + 1);
    if (action === 'RunInstances') this.runInstances.push(Object.fromEntries(params));
    const fault = this.#fault(action, params);
    if (fault !== undefined) {
      res.writeHead(serverErrors.get(fault) ?? 400, { 'content-type': 'text/xml' }).end(errorXml(fault));
      return;
    }
    if (action === 'DescribeCapacityReservations') {
      res.writeHead(200, { 'content-type': 'text/xml' }).end(reservationsXml(this.reservations));
      return;
    }
    const token = action === 'RunInstances' ? params.get('ClientToken') : null;
    const replay = token === null ? undefined : this.#byToken.get(token);
    if (replay !== undefined) {
      res.writeHead(replay.status, replay.headers).end(replay.body);
      return;
    }
    const answer = await this.#forward(req, raw);
    if (token !== null && answer.status === 200) this.#byToken.set(token, answer);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  async #forward(req: IncomingMessage, raw: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const headers = { ...req.headers, host: this.#target.host, 'content-length': String(raw.length) };
    const up = request({ host: this.#target.hostname, port: this.#target.port, method: req.method, path: req.url, headers });
    up.end(raw);
    const [res] = (await once(up, 'response')) as [IncomingMessage];
    const out = await body(res);
    const keep = Object.fromEntries(Object.entries(res.headers)
      .filter(([k, v]) => typeof v === 'string' && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection')) as Record<string, string>;
    return { status: res.statusCode ?? 502, headers: keep, body: out };
  }
}
