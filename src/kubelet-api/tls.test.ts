import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import fastify, { type FastifyInstance } from 'fastify';
import { X509Certificate, type webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rename, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { get, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/fakes/clock.js';
import { createLogger } from '../observability/logger.js';
import { KubeletTls, x509Identity, type KubeletTlsFiles, type PemPair } from './tls.js';

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

interface Issuer {
  readonly keys: webcrypto.CryptoKeyPair;
  readonly cert: x509.X509Certificate;
  readonly pem: string;
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

async function makeCa(name: string): Promise<Issuer> {
  const keys = await crypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { keys, cert, pem: cert.toString('pem') };
}

/** A leaf signed by `ca`: a server certificate for 127.0.0.1, or a client certificate. */
async function issue(ca: Issuer, subject: string, usage: 'server' | 'client'): Promise<PemPair> {
  const keys = await crypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (usage === 'server') extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]));
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ecdsa,
    extensions,
  });
  return { cert: `${cert.toString('pem')}\n${ca.pem}\n`, key: await keyPem(keys) };
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

let dir: string;
let lines: string[];
let clock: FakeClock;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orca-tls-'));
  lines = [];
  clock = new FakeClock();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await rm(dir, { recursive: true, force: true });
});

const log = (): ReturnType<typeof createLogger> => createLogger('debug', { write: (s: string) => lines.push(s) });
const deps = (): Parameters<typeof KubeletTls.load>[1] => ({ clock, log: log(), nodeName: 'orca-burst', nodeIP: '10.20.30.40', reloadIntervalMs: 5_000 });
const logged = (level: number): { msg: string; problem?: string }[] =>
  lines.map((l) => JSON.parse(l) as { level: number; msg: string; problem?: string }).filter((l) => l.level === level);

async function writePair(pair: PemPair, name = 'tls'): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, pair.cert);
  await writeFile(keyFile, pair.key);
  return { certFile, keyFile };
}

/** A fastify 5 HTTPS server as the kubelet API will run it: /whoami answers the connection's x509 identity. */
async function serve(tls: KubeletTls): Promise<number> {
  const app: FastifyInstance<HttpsServer> = fastify({ https: tls.serverOptions() });
  app.get('/whoami', (req) => ({ identity: tls.identity(req.raw.socket as TLSSocket) ?? null }));
  tls.attach(app.server);
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return (app.server.address() as AddressInfo).port;
}

/** The fingerprint of the certificate a new TLS connection is served. */
async function servedFingerprint(port: number, servername?: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername === undefined ? {} : { servername }) });
  await once(socket, 'secureConnect');
  const served = socket.getPeerCertificate().fingerprint256;
  socket.destroy();
  return served;
}

async function whoami(port: number, client?: PemPair): Promise<unknown> {
  const res = get({ host: '127.0.0.1', port, path: '/whoami', rejectUnauthorized: false, agent: false, ...client });
  const [response] = (await once(res, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return (JSON.parse(body) as { identity: unknown }).identity;
}

describe('serving certificate from files', () => {
  it('serves the file pair (chain included) and says where it comes from', async () => {
    const ca = await makeCa('cluster-ca');
    const pair = await issue(ca, 'CN=system:node:orca-burst, O=system:nodes', 'server');
    const tls = await KubeletTls.load(await writePair(pair), deps());
    const port = await serve(tls);
    expect(await servedFingerprint(port)).toBe(fingerprint(pair.cert));
    expect(tls.selfSigned).toBe(false);
    expect(tls.describe()).toMatch(/^kubelet serving certificate from .*tls\.crt \(CN=system:node:orca-burst, O=system:nodes\), valid until /);
    const verified = connect({ host: '127.0.0.1', port, ca: ca.pem });
    await once(verified, 'secureConnect');
    expect(verified.authorized).toBe(true);
    verified.destroy();
  });

  it('gives a NEW connection the new certificate after the files change and refresh runs', async () => {
    const ca = await makeCa('cluster-ca');
    const first = await issue(ca, 'CN=first', 'server');
    const files = await writePair(first);
    const tls = await KubeletTls.load(files, deps());
    const port = await serve(tls);
    expect(await tls.refresh()).toBe(false);
    const second = await issue(ca, 'CN=second', 'server');
    await writePair(second);
    expect(await tls.refresh()).toBe(true);
    expect(await servedFingerprint(port)).toBe(fingerprint(second.cert));
    expect(await servedFingerprint(port, 'orca-burst')).toBe(fingerprint(second.cert));
    expect(tls.pem()).toEqual(second);
    expect(logged(30).map((l) => l.msg)).toContain('kubelet serving certificate reloaded');
  });

  it('reloads on the injected clock in run(), and follows a secret volume symlink swap', async () => {
    const ca = await makeCa('cluster-ca');
    const volume = async (pair: PemPair, version: string): Promise<void> => {
      await mkdir(join(dir, version));
      await writeFile(join(dir, version, 'tls.crt'), pair.cert);
      await writeFile(join(dir, version, 'tls.key'), pair.key);
      await symlink(version, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    const first = await issue(ca, 'CN=first', 'server');
    await volume(first, '..v1');
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
    const tls = await KubeletTls.load({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') }, deps());
    const port = await serve(tls);
    const stop = new AbortController();
    const running = tls.run(stop.signal);
    const second = await issue(ca, 'CN=second', 'server');
    await volume(second, '..v2');
    await clock.tick(5_000);
    await vi.waitFor(async () => { expect(await servedFingerprint(port)).toBe(fingerprint(second.cert)); });
    stop.abort();
    await running;
  });

  it('keeps the previous certificate and warns, once, when the files hold a broken pair; takes the next good one', async () => {
    const ca = await makeCa('cluster-ca');
    const good = await issue(ca, 'CN=good', 'server');
    const other = await issue(ca, 'CN=other', 'server');
    const tls = await KubeletTls.load(await writePair(good), deps());
    const port = await serve(tls);
    await writePair({ cert: other.cert, key: good.key });
    expect(await tls.refresh()).toBe(false);
    expect(await tls.refresh()).toBe(false);
    expect(await servedFingerprint(port)).toBe(fingerprint(good.cert));
    await writePair({ cert: '-----BEGIN CERTIFICATE-----\nnot half written\n', key: other.key });
    expect(await tls.refresh()).toBe(false);
    expect(await servedFingerprint(port)).toBe(fingerprint(good.cert));
    expect(logged(40).map((l) => l.problem)).toEqual([
      'the key does not belong to the certificate',
      'the certificate file holds no parsable PEM certificate',
    ]);
    expect(lines.join('\n')).not.toMatch(/PRIVATE KEY|not half written/);
    await writePair(other);
    expect(await tls.refresh()).toBe(true);
    expect(await servedFingerprint(port)).toBe(fingerprint(other.cert));
  });

  it('keeps serving while a file is missing (warned once) and takes it back when it returns', async () => {
    const pair = await issue(await makeCa('cluster-ca'), 'CN=x', 'server');
    const files = await writePair(pair);
    const tls = await KubeletTls.load(files, deps());
    const port = await serve(tls);
    await rm(files.keyFile);
    expect([await tls.refresh(), await tls.refresh()]).toEqual([false, false]);
    expect(logged(40).map((l) => l.problem)).toEqual(['cannot be read (ENOENT)']);
    expect(await servedFingerprint(port)).toBe(fingerprint(pair.cert));
    await writePair(pair);
    expect(await tls.refresh()).toBe(true);
    expect(await servedFingerprint(port)).toBe(fingerprint(pair.cert));
  });

  it('refuses to start on an unusable pair or a certificate without its key, naming the files but not their content', async () => {
    const ca = await makeCa('cluster-ca');
    const pair = await issue(ca, 'CN=x', 'server');
    const files = await writePair({ cert: pair.cert, key: 'garbage' });
    await expect(KubeletTls.load(files, deps())).rejects.toThrow(/tls\.crt \+ .*tls\.key: the key file holds no parsable/);
    await expect(KubeletTls.load({ certFile: files.certFile }, deps())).rejects.toThrow(/both a certificate file and a key file/);
    await expect(KubeletTls.load({ ...files, clientCaFile: join(dir, 'missing.pem') }, deps())).rejects.toThrow(/missing\.pem: cannot be read \(ENOENT\)/);
  });
});

describe('self-signed fallback', () => {
  it('makes a certificate for the node name and InternalIP, valid one year, and warns how to replace it', async () => {
    const tls = await KubeletTls.load({}, deps());
    const port = await serve(tls);
    const served = new X509Certificate(tls.pem().cert);
    expect(await servedFingerprint(port)).toBe(served.fingerprint256);
    expect(tls.selfSigned).toBe(true);
    expect(served.subjectAltName).toBe('DNS:orca-burst, IP Address:10.20.30.40');
    expect(served.subject).toBe('CN=orca-burst');
    expect([served.issuer, served.verify(served.publicKey), served.ca]).toEqual(['CN=orca-burst', true, false]);
    const days = (Date.parse(served.validTo) - clock.now().getTime()) / 86_400_000;
    expect(Math.round(days)).toBe(365);
    expect(tls.describe()).toMatch(/^self-signed kubelet serving certificate for DNS:orca-burst, IP Address:10\.20\.30\.40, valid until /);
    const [warning] = logged(40);
    expect(warning?.msg).toMatch(/^Warning: .*`kubectl logs`.*--kubelet-certificate-authority.*metrics-server without --kubelet-insecure-tls.*kubeletApi\.tlsCertFile and kubeletApi\.tlsKeyFile/);
    const pinned = connect({ host: '127.0.0.1', port, ca: tls.pem().cert, servername: 'orca-burst' });
    await once(pinned, 'secureConnect');
    expect(pinned.authorized).toBe(true);
    pinned.destroy();
  });

  it('renews itself 30 days before it expires', async () => {
    const tls = await KubeletTls.load({}, deps());
    const before = tls.pem().cert;
    expect(await tls.refresh()).toBe(false);
    await clock.advance(336 * 86_400_000);
    expect(await tls.refresh()).toBe(true);
    expect(tls.pem().cert).not.toBe(before);
    expect(tls.selfSigned).toBe(true);
  });
});

describe('client CA and x509 identity', () => {
  async function withClientCa(ca: Issuer): Promise<{ tls: KubeletTls; port: number; files: KubeletTlsFiles }> {
    const serving = await issue(await makeCa('cluster-ca'), 'CN=serving', 'server');
    const clientCaFile = join(dir, 'client-ca.pem');
    await writeFile(clientCaFile, ca.pem);
    const files = { ...(await writePair(serving)), clientCaFile };
    const tls = await KubeletTls.load(files, deps());
    return { tls, port: await serve(tls), files };
  }

  it('names the user (CN) and groups (O) of a client certificate signed by the CA; nothing otherwise', async () => {
    const ca = await makeCa('kubelet-client-ca');
    const { tls, port } = await withClientCa(ca);
    expect(tls.clientCaPem()).toBe(ca.pem.trim());
    const apiserver = await issue(ca, 'CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins, O=system:masters', 'client');
    expect(await whoami(port, apiserver)).toEqual({ user: 'kube-apiserver-kubelet-client', groups: ['kubeadm:cluster-admins', 'system:masters'] });
    const stranger = await issue(await makeCa('someone-else'), 'CN=intruder, O=system:masters', 'client');
    expect(await whoami(port, stranger)).toBeNull();
    expect(await whoami(port)).toBeNull();
  });

  it('reloads the CA bundle: a client of the new CA is known to new connections, a broken bundle is refused', async () => {
    const oldCa = await makeCa('old-ca');
    const newCa = await makeCa('new-ca');
    const { tls, port, files } = await withClientCa(oldCa);
    const client = await issue(newCa, 'CN=rotated', 'client');
    expect(await whoami(port, client)).toBeNull();
    await writeFile(files.clientCaFile ?? '', `${oldCa.pem}\n${newCa.pem}`);
    expect(await tls.refresh()).toBe(true);
    expect(await whoami(port, client)).toEqual({ user: 'rotated', groups: [] });
    await writeFile(files.clientCaFile ?? '', 'nothing here');
    expect(await tls.refresh()).toBe(false);
    expect(logged(40).map((l) => l.problem)).toEqual(['the file holds no PEM certificate']);
    expect(await whoami(port, client)).toEqual({ user: 'rotated', groups: [] });
  });

  it('asks for no client certificate and names no one when no client CA is configured', async () => {
    const ca = await makeCa('cluster-ca');
    const tls = await KubeletTls.load(await writePair(await issue(ca, 'CN=serving', 'server')), deps());
    expect(tls.serverOptions()).toMatchObject({ requestCert: false, rejectUnauthorized: false });
    const port = await serve(tls);
    expect(await whoami(port, await issue(ca, 'CN=someone', 'client'))).toBeNull();
  });

  it('x509Identity reads only authorized peers with a CN', () => {
    const peer = (authorized: boolean, subject?: Record<string, string | string[]>): Parameters<typeof x509Identity>[0] => ({
      authorized,
      getPeerCertificate: () => (subject === undefined ? {} : ({ subject } as unknown as ReturnType<TLSSocket['getPeerCertificate']>)),
    });
    expect(x509Identity(peer(true, { CN: 'alice', O: 'devs' }))).toEqual({ user: 'alice', groups: ['devs'] });
    expect(x509Identity(peer(true, { CN: 'alice', O: ['a', 'b'] }))).toEqual({ user: 'alice', groups: ['a', 'b'] });
    expect(x509Identity(peer(false, { CN: 'alice' }))).toBeUndefined();
    expect(x509Identity(peer(true, { O: 'devs' }))).toBeUndefined();
    expect(x509Identity(peer(true))).toBeUndefined();
  });
});
