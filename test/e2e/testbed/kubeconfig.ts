// The admin kubeconfig of a run: client-certificate auth against the run's CA.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigParams {
  readonly server: string;
  readonly caCert: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export function writeKubeconfig(file: string, p: KubeconfigParams): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'orca-testbed', cluster: { server: p.server, 'certificate-authority': p.caCert } }],
    users: [{ name: 'admin', user: { 'client-certificate': p.clientCert, 'client-key': p.clientKey } }],
    contexts: [{ name: 'orca-testbed', context: { cluster: 'orca-testbed', user: 'admin' } }],
    'current-context': 'orca-testbed',
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}
