// The pieces every stand-in apiserver of the src/k8s tests shares: an HTTP server on a free loopback
// port (kept in `servers`, for the suite's afterEach to close), and a kubeconfig that reaches it
// with a bearer token.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** Starts `srv` on a free loopback port, records it in `servers`, and resolves with its URL. */
export async function listenOnLoopback(srv: Server, servers: Server[]): Promise<string> {
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return `http://127.0.0.1:${String((srv.address() as AddressInfo).port)}`;
}

/** Closes every server of `servers` and their connections, and empties the list. */
export function closeServers(servers: Server[]): void {
  for (const s of servers.splice(0)) { s.closeAllConnections(); s.close(); }
}

/** A kubeconfig for `server` with `token`. */
export function tokenKubeConfig(server: string, token = 't'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }], users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return kc;
}
