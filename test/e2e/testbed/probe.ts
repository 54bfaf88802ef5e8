// Readiness probes: one HTTP(S) GET that says whether a component answers 200.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';

export interface ClientTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Without a CA the server's certificate is not checked (components that make their own). */
function tlsOptions(tls: ClientTls = {}): object {
  const read = (f: string | undefined): Buffer | undefined => (f === undefined ? undefined : readFileSync(f));
  return { rejectUnauthorized: tls.ca !== undefined, ca: read(tls.ca), cert: read(tls.cert), key: read(tls.key) };
}

export async function httpOk(url: string, tls?: ClientTls, timeoutMs = 2000): Promise<boolean> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const tlsOpts = u.protocol === 'https:' ? tlsOptions(tls) : {};
  return new Promise((resolveOk) => {
    const req = send(u, { method: 'GET', timeout: timeoutMs, ...tlsOpts }, (res) => {
      res.resume();
      resolveOk(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolveOk(false);
    });
    req.end();
  });
}
