// A fault-injecting proxy in front of moto (a test component, never shipped). It forwards every AWS
// call, counts them by action, and adds what moto lacks: capacity errors per offering (instance
// type × subnet × market), limited capacity pools that fill a RunInstances call only in part,
// throttling, ClientToken idempotency for RunInstances, and canned capacity reservations. moto
// launches MinCount instances; EC2 launches as many as it has up to MaxCount, so the proxy rewrites
// MinCount to what the call gets. EC2 speaks the Query protocol: form-encoded Action=…, XML errors.
// Actions of JSON protocols that moto lacks can be answered by a test component instead (intercept).
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

/** Instances left for the RunInstances calls that match; a call gets what is left up to its MaxCount. */
export interface CapacityPool {
  readonly match: Readonly<Record<string, string>>;
  available: number;
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

/** An HTTP answer the proxy sends back. */
export interface Answer { readonly status: number; readonly headers: Record<string, string>; readonly body: Buffer }

/** Answers one JSON-protocol action (by X-Amz-Target) from its request body, instead of moto. */
export type Interceptor = (body: Buffer) => Promise<Answer>;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class FaultProxy {
  readonly rules: FaultRule[] = [];
  readonly reservations: CapacityReservation[] = [];
  readonly pools: CapacityPool[] = [];
  /** Instances stay `pending` in DescribeInstances for this long after their launch (moto starts them at once). */
  pendingMs = 0;
  readonly #launchedAt = new Map<string, number>();
  /** Calls seen, by action (EC2 Action or the X-Amz-Target of JSON protocols). */
  readonly calls = new Map<string, number>();
  /** Every RunInstances call's parameters, in order. */
  readonly runInstances: Record<string, string>[] = [];
  readonly #byToken = new Map<string, Answer>();
  /** Kept across reset(): they are wiring, not faults. */
  readonly #intercepts = new Map<string, Interceptor>();
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

  /**
   * Answers the JSON-protocol action `target` (an X-Amz-Target such as AmazonSSM.StartSession) with
   * `handler` instead of forwarding it to moto. The call is still counted, and fault rules for it apply first.
   */
  intercept(target: string, handler: Interceptor): void {
    this.#intercepts.set(target, handler);
  }

  count(action: string): number {
    return this.calls.get(action) ?? 0;
  }

  reset(): void {
    this.rules.length = 0;
    this.reservations.length = 0;
    this.pools.length = 0;
    this.pendingMs = 0;
    this.#launchedAt.clear();
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

  /** How many instances a RunInstances call gets: its MaxCount, or what its pool has left. */
  #fill(params: URLSearchParams): number {
    const wanted = Number(params.get('MaxCount') ?? '1');
    const pool = this.pools.find((p) => Object.entries(p.match).every(([k, v]) => params.get(k) === v));
    if (pool === undefined) return wanted;
    const n = Math.min(wanted, pool.available);
    if (n >= Number(params.get('MinCount') ?? '1')) pool.available -= n;
    return n;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = await body(req);
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
    const intercepted = typeof target === 'string' ? this.#intercepts.get(target) : undefined;
    if (intercepted !== undefined) {
      const answer = await intercepted(raw).catch((e: unknown) => ({
        status: 500, headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: Buffer.from(JSON.stringify({ __type: 'InternalFailure', message: e instanceof Error ? e.message : String(e) })),
      }));
      res.writeHead(answer.status, answer.headers).end(answer.body);
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
    if (action === 'RunInstances' && params.get('DryRun') !== 'true') {
      const n = this.#fill(params);
      if (n < Number(params.get('MinCount') ?? '1')) {
        res.writeHead(500, { 'content-type': 'text/xml' }).end(errorXml('InsufficientInstanceCapacity'));
        return;
      }
      params.set('MinCount', String(n));
      params.set('MaxCount', String(n));
      raw = Buffer.from(params.toString());
    }
    const answer = this.#pending(action, await this.#forward(req, raw));
    if (token !== null && answer.status === 200) this.#byToken.set(token, answer);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  /** Notes launch times from RunInstances; shows young instances as pending in DescribeInstances. */
  #pending(action: string, answer: Answer): Answer {
    if (answer.status !== 200 || this.pendingMs === 0) return answer;
    const text = answer.body.toString();
    const now = Date.now();
    if (action === 'RunInstances') for (const m of text.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)) this.#launchedAt.set(m[1] ?? '', now);
    if (action !== 'DescribeInstances') return answer;
    const young = (id: string): boolean => now - (this.#launchedAt.get(id) ?? -Infinity) < this.pendingMs;
    const out = text.replace(/(<instanceId>(i-[0-9a-f]+)<\/instanceId>[\s\S]*?<instanceState>\s*<code>)16(<\/code>\s*<name>)running(<\/name>)/g,
      (all: string, ...g: string[]) => (young(g[1] ?? '') ? `${g[0] ?? ''}0${g[2] ?? ''}pending${g[3] ?? ''}` : all));
    return { ...answer, body: Buffer.from(out) };
  }

  async #forward(req: IncomingMessage, raw: Buffer): Promise<Answer> {
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
