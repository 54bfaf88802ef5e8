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
  /** The aggregation layer's CA and client (kubeadm's front-proxy pair). */
  readonly frontProxyCaCert: string;
  readonly frontProxyClientCert: string;
  readonly frontProxyClientKey: string;
}

function selfSignedCa(dir: string, name: string, cn: string): void {
  newKey(dir, name);
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '7', '-subj', `/CN=${cn}`], dir);
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

interface CertRequest { readonly name: string; readonly subject: string; readonly extensions: string; readonly ca?: string }

function signed(cwd: string, { name, subject, extensions, ca = 'ca' }: CertRequest): void {
  newKey(cwd, name);
  openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], cwd);
  writeFileSync(join(cwd, `${name}.ext`), extensions);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-days', '7', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
    cwd,
  );
}

const serverSans = 'IP:127.0.0.1,DNS:localhost';
const apiserverSans = `${serverSans},IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc`;

export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  selfSignedCa(dir, 'ca', 'orca-testbed-ca');
  selfSignedCa(dir, 'front-proxy-ca', 'orca-testbed-front-proxy-ca');
  signed(dir, { name: 'front-proxy-client', subject: '/CN=front-proxy-client', extensions: 'extendedKeyUsage=clientAuth\n', ca: 'front-proxy-ca' });
  signed(dir, { name: 'apiserver', subject: '/CN=kube-apiserver', extensions: `subjectAltName=${apiserverSans}\nextendedKeyUsage=serverAuth\n` });
  signed(dir, { name: 'admin', subject: '/O=system:masters/CN=testbed-admin', extensions: 'extendedKeyUsage=clientAuth\n' });
  signed(dir, { name: 'kubelet-client', subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', extensions: 'extendedKeyUsage=clientAuth\n' });
  signed(dir, { name: 'orca-serving', subject: '/CN=orca-node', extensions: `subjectAltName=${serverSans}\nextendedKeyUsage=serverAuth\n` });
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
    frontProxyCaCert: p('front-proxy-ca.crt'),
    frontProxyClientCert: p('front-proxy-client.crt'), frontProxyClientKey: p('front-proxy-client.key'),
  };
}
