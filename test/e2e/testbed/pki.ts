// Per-run certificates, made with openssl: a CA, the apiserver's serving cert, the admin client
// cert, the apiserver's kubelet-client cert (what ORCA's kubelet API sees), ORCA's serving cert,
// and the service-account signing key pair. Keys are P-256: fast to make, accepted everywhere.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestbedError } from './errors.js';

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
  readonly orcaServingCert: string;
  readonly orcaServingKey: string;
  readonly saKey: string;
  readonly saPub: string;
}

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new TestbedError('pki', `openssl ${args[0] ?? ''} failed: ${stderr.trim()}`);
  }
}

function newKey(cwd: string, name: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], cwd);
}

function signed(cwd: string, name: string, subject: string, extensions: string): void {
  newKey(cwd, name);
  openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], cwd);
  writeFileSync(join(cwd, `${name}.ext`), extensions);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', '7', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
    cwd,
  );
}

const serverSans = 'IP:127.0.0.1,DNS:localhost';
const apiserverSans = `${serverSans},IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc`;

export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  newKey(dir, 'ca');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=orca-testbed-ca'], dir);
  signed(dir, 'apiserver', '/CN=kube-apiserver', `subjectAltName=${apiserverSans}\nextendedKeyUsage=serverAuth\n`);
  signed(dir, 'admin', '/O=system:masters/CN=testbed-admin', 'extendedKeyUsage=clientAuth\n');
  signed(dir, 'kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'extendedKeyUsage=clientAuth\n');
  signed(dir, 'orca-serving', '/CN=orca-node', `subjectAltName=${serverSans}\nextendedKeyUsage=serverAuth\n`);
  newKey(dir, 'sa');
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'), caKey: p('ca.key'),
    apiserverCert: p('apiserver.crt'), apiserverKey: p('apiserver.key'),
    adminCert: p('admin.crt'), adminKey: p('admin.key'),
    kubeletClientCert: p('kubelet-client.crt'), kubeletClientKey: p('kubelet-client.key'),
    orcaServingCert: p('orca-serving.crt'), orcaServingKey: p('orca-serving.key'),
    saKey: p('sa.key'), saPub: p('sa.pub'),
  };
}
