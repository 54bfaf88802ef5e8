// IMDSv2 of one emulated instance (a test component, never shipped), on 127.0.0.1: a session token
// from `PUT /latest/api/token` (with the TTL header, 1–21600 s), then GETs under /latest/meta-data/
// carrying it (401 without a valid one). It serves the instance's id and region, a spot interruption
// notice and a rebalance recommendation once a test injects them (404 before, as EC2 answers), and
// the instance's tags read from moto on every request (as on an instance launched with metadata tags
// on; ORCA launches with them off, because EC2 then refuses tag keys with `/` such as its own).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';

export interface ImdsOptions {
  readonly instanceId: string;
  readonly region: string;
  readonly ec2: EC2Client;
}

const maxTtlSeconds = 21_600;
const metaData = '/latest/meta-data/';

/** EC2's times in IMDS documents: ISO 8601 to the second. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class Imds {
  readonly #o: ImdsOptions;
  readonly #server: Server;
  /** Token → expiry (ms). */
  readonly #tokens = new Map<string, number>();
  #spotAction: string | undefined;
  #rebalance: string | undefined;

  private constructor(o: ImdsOptions) {
    this.#o = o;
    this.#server = createServer((req, res) => { void this.#handle(req, res); });
  }

  static async start(o: ImdsOptions): Promise<Imds & { readonly url: string }> {
    const imds = new Imds(o);
    imds.#server.listen(0, '127.0.0.1');
    await once(imds.#server, 'listening');
    return Object.assign(imds, { url: `http://127.0.0.1:${(imds.#server.address() as AddressInfo).port}` });
  }

  /** The two-minute warning of a spot interruption (`spot/instance-action`). */
  injectSpotNotice(action: 'terminate' | 'stop' | 'hibernate' = 'terminate'): void {
    this.#spotAction = JSON.stringify({ action, time: isoSeconds(Date.now() + 120_000) });
  }

  /** A rebalance recommendation (`events/recommendations/rebalance`). */
  injectRebalance(): void {
    this.#rebalance = JSON.stringify({ noticeTime: isoSeconds(Date.now()) });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://imds').pathname;
    if (req.method === 'PUT' && path === '/latest/api/token') {
      this.#token(req, res);
      return;
    }
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (!this.#valid(req.headers['x-aws-ec2-metadata-token'])) return void res.writeHead(401).end();
    try {
      const value = path.startsWith(metaData) ? await this.#lookup(path.slice(metaData.length)) : undefined;
      if (value === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(value);
    } catch (e) {
      res.writeHead(500).end(e instanceof Error ? e.message : String(e));
    }
  }

  #token(req: IncomingMessage, res: ServerResponse): void {
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > maxTtlSeconds) return void res.writeHead(400).end();
    const token = randomBytes(32).toString('base64url');
    this.#tokens.set(token, Date.now() + ttl * 1000);
    res.writeHead(200, { 'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) }).end(token);
  }

  #valid(token: string | string[] | undefined): boolean {
    const expiry = typeof token === 'string' ? this.#tokens.get(token) : undefined;
    return expiry !== undefined && expiry > Date.now();
  }

  async #lookup(key: string): Promise<string | undefined> {
    const fixed: Readonly<Record<string, string | undefined>> = {
      'instance-id': this.#o.instanceId,
      'placement/region': this.#o.region,
      'spot/instance-action': this.#spotAction,
      'events/recommendations/rebalance': this.#rebalance,
    };
    if (key in fixed) return fixed[key];
    if (key === 'tags/instance') return [...(await this.#tags()).keys()].join('\n');
    if (key.startsWith('tags/instance/')) return (await this.#tags()).get(decodeURIComponent(key.slice('tags/instance/'.length)));
    return undefined;
  }

  async #tags(): Promise<Map<string, string>> {
    const out = await this.#o.ec2.send(new DescribeInstancesCommand({ InstanceIds: [this.#o.instanceId] }));
    const tags = out.Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
    return new Map(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
  }
}
