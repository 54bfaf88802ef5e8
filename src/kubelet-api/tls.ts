// The kubelet API's TLS material: the serving certificate (a PEM pair from files, reloaded when they
// change so that cert-manager rotation needs no restart; else a self-signed certificate for the node,
// made at start-up), the client CA that x509 client authentication verifies against (reloaded the
// same way), and the x509 identity of a peer. The server starts with `serverOptions()`; `attach()`
// hands every reload to `server.setSecureContext()`, so each new connection gets the newest pair
// (a SNICallback would not do: clients that dial an IP address send no server name).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerOptions } from 'node:https';
import { createSecureContext, type PeerCertificate, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';

/** The files named in the config; a certificate without its key (or the reverse) is refused. */
export interface KubeletTlsFiles {
  /** PEM serving certificate, leaf first; may hold the chain after it. */
  readonly certFile?: string | undefined;
  /** PEM private key of the serving certificate. */
  readonly keyFile?: string | undefined;
  /** PEM bundle of the CAs that sign client certificates (the apiserver's --kubelet-client-certificate). */
  readonly clientCaFile?: string | undefined;
}

export interface KubeletTlsDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The node's name: CN and DNS SAN of the self-signed certificate. */
  readonly nodeName: string;
  /** The node's InternalIP: IP SAN of the self-signed certificate. */
  readonly nodeIP?: string | undefined;
  /** How often `run()` reads the files again; default 10 s. */
  readonly reloadIntervalMs?: number | undefined;
}

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** Who an x509 client certificate says the caller is, as the apiserver's x509 authenticator reads it. */
export interface X509Identity {
  readonly user: string;
  readonly groups: readonly string[];
}

/** What x509Identity needs of a TLS socket (a tls.TLSSocket has both). */
export interface TlsPeer {
  readonly authorized: boolean;
  getPeerCertificate(): PeerCertificate | Record<string, never>;
}

/** The server options `attach()` keeps in step; `setSecureContext` takes them whole, so all are given. */
export interface KubeletSecureContextOptions extends SecureContextOptions {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly minVersion: 'TLSv1.2';
}

/** What `attach()` needs of a server: node's tls.Server, hence https.Server and fastify's `app.server`. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

const selfSignedDays = 365;
const renewBeforeMs = 30 * 86_400_000;
const defaultReloadMs = 10_000;

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const fail = (problem: string): Checked<never> => ({ ok: false, problem });

interface Served {
  readonly pair: PemPair;
  readonly leaf: X509Certificate;
}

function attempt<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** A PEM pair TLS can serve: the certificate and key parse and belong together. Never echoes either. */
function checkPair(texts: readonly string[]): Checked<Served> {
  const [cert = '', key = ''] = texts;
  const leaf = attempt(() => new X509Certificate(cert));
  if (leaf === undefined) return fail('the certificate file holds no parsable PEM certificate');
  const keyObject: KeyObject | undefined = attempt(() => createPrivateKey(key));
  if (keyObject === undefined) return fail('the key file holds no parsable, unencrypted PEM private key');
  if (!leaf.checkPrivateKey(keyObject)) return fail('the key does not belong to the certificate');
  if (attempt(() => createSecureContext({ cert, key })) === undefined) return fail('TLS refuses the pair');
  return { ok: true, value: { pair: { cert, key }, leaf } };
}

/** A CA bundle: at least one certificate, every PEM block parsable. */
function checkBundle(texts: readonly string[]): Checked<string> {
  const bundle = texts[0] ?? '';
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return fail('the file holds no PEM certificate');
  if (blocks.some((b) => attempt(() => new X509Certificate(b)) === undefined)) return fail('a certificate in the bundle does not parse');
  return { ok: true, value: blocks.join('\n') };
}

function errCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'read failed';
}

/**
 * Files read as one unit, checked before they are taken. A change to any of them (content, which
 * also catches a Kubernetes secret volume's symlink swap) is a new version; a version that fails the
 * check is warned about once and the previous one is kept.
 */
class WatchedFiles<T> {
  #digest: string;
  #value: T;

  private constructor(
    private readonly paths: readonly string[],
    private readonly check: (texts: readonly string[]) => Checked<T>,
    first: { digest: string; value: T },
  ) {
    this.#digest = first.digest;
    this.#value = first.value;
  }

  /** The first version; throws (naming the files and the problem, never their content) when unusable. */
  static async load<V>(paths: readonly string[], check: (texts: readonly string[]) => Checked<V>): Promise<WatchedFiles<V>> {
    const read = await WatchedFiles.#read(paths);
    if (!read.ok) throw new Error(`${paths.join(' + ')}: ${read.problem}`);
    const checked = check(read.value);
    if (!checked.ok) throw new Error(`${paths.join(' + ')}: ${checked.problem}`);
    return new WatchedFiles(paths, check, { digest: digest(read.value), value: checked.value });
  }

  static async #read(paths: readonly string[]): Promise<Checked<string[]>> {
    try {
      return { ok: true, value: await Promise.all(paths.map((p) => readFile(p, 'utf8'))) };
    } catch (err) {
      return fail(`cannot be read (${errCode(err)})`);
    }
  }

  get value(): T {
    return this.#value;
  }

  /** Reads the files again: 'same', 'taken' (a new good version) or the problem of a new bad one. */
  async refresh(): Promise<'same' | 'taken' | { problem: string }> {
    const read = await WatchedFiles.#read(this.paths);
    const next = read.ok ? digest(read.value) : read.problem;
    if (next === this.#digest) return 'same';
    this.#digest = next;
    if (!read.ok) return { problem: read.problem };
    const checked = this.check(read.value);
    if (!checked.ok) return { problem: checked.problem };
    this.#value = checked.value;
    return 'taken';
  }
}

function digest(texts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const t of texts) hash.update(t).update('\0');
  return hash.digest('hex');
}

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A self-signed serving certificate for the node: CN and DNS SAN its name, IP SAN its InternalIP. */
async function generateSelfSigned(nodeName: string, nodeIP: string | undefined, now: Date): Promise<Served> {
  const keys = await crypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
  const names: x509.JsonGeneralName[] = [{ type: 'dns', value: nodeName }];
  if (nodeIP !== undefined) names.push({ type: 'ip', value: nodeIP });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [nodeName] }],
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + selfSignedDays * 86_400_000),
    keys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const key = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const pem = cert.toString('pem');
  return { pair: { cert: pem, key }, leaf: new X509Certificate(pem) };
}

function asList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/**
 * The x509 identity of a peer whose client certificate verified against the server's client CA:
 * user = the subject's CN, groups = its O values. Undefined for a peer that sent no certificate, or
 * one the CA did not sign (the TLS layer lets both through: a bearer token may still authenticate).
 */
export function x509Identity(peer: TlsPeer): X509Identity | undefined {
  if (!peer.authorized) return undefined;
  const subject = (peer.getPeerCertificate() as Partial<PeerCertificate>).subject as
    | Record<string, string | readonly string[] | undefined>
    | undefined;
  const user = asList(subject?.CN)[0];
  if (user === undefined || user === '') return undefined;
  return { user, groups: asList(subject?.O) };
}

/** The serving certificate, the client CA and their reloads. Build it with `KubeletTls.load`. */
export class KubeletTls {
  readonly #d: KubeletTlsDeps;
  readonly #files: KubeletTlsFiles;
  readonly #servingFiles: WatchedFiles<Served> | undefined;
  readonly #clientCa: WatchedFiles<string> | undefined;
  readonly #listeners = new Set<() => void>();
  #selfSigned: Served | undefined;
  #context: SecureContext | undefined;

  private constructor(
    deps: KubeletTlsDeps,
    files: KubeletTlsFiles,
    sources: { serving: WatchedFiles<Served> | Served; clientCa: WatchedFiles<string> | undefined },
  ) {
    this.#d = deps;
    this.#files = files;
    this.#servingFiles = sources.serving instanceof WatchedFiles ? sources.serving : undefined;
    this.#selfSigned = sources.serving instanceof WatchedFiles ? undefined : sources.serving;
    this.#clientCa = sources.clientCa;
  }

  /**
   * Reads the configured files, or makes a self-signed certificate when no certificate file is
   * named (with a Warning). Throws when a named file is missing or not usable: a start-up error.
   */
  static async load(files: KubeletTlsFiles, deps: KubeletTlsDeps): Promise<KubeletTls> {
    const { certFile, keyFile, clientCaFile } = files;
    if ((certFile === undefined) !== (keyFile === undefined)) {
      throw new Error('the kubelet API needs both a certificate file and a key file, or neither');
    }
    const clientCa = clientCaFile === undefined ? undefined : await WatchedFiles.load([clientCaFile], checkBundle);
    const serving = certFile !== undefined && keyFile !== undefined
      ? await WatchedFiles.load([certFile, keyFile], checkPair)
      : await generateSelfSigned(deps.nodeName, deps.nodeIP, deps.clock.now());
    const tls = new KubeletTls(deps, files, { serving, clientCa });
    if (tls.selfSigned) tls.#warnSelfSigned();
    return tls;
  }

  /** True when the serving certificate was made here rather than read from files. */
  get selfSigned(): boolean {
    return this.#selfSigned !== undefined;
  }

  /** True when a client CA is configured (x509 client authentication is on). */
  get verifiesClientCertificates(): boolean {
    return this.#clientCa !== undefined;
  }

  /** One line for people (the node condition message): where the serving certificate comes from. */
  describe(): string {
    const leaf = this.#served().leaf;
    const until = new Date(leaf.validTo).toISOString();
    if (this.selfSigned) {
      return `self-signed kubelet serving certificate for ${leaf.subjectAltName ?? this.#d.nodeName}, valid until ${until}; ` +
        'clients that verify kubelet certificates (the apiserver with --kubelet-certificate-authority, metrics-server) refuse it';
    }
    return `kubelet serving certificate from ${this.#files.certFile ?? ''} (${leaf.subject.replaceAll('\n', ', ')}), valid until ${until}`;
  }

  /** The current PEM pair. */
  pem(): PemPair {
    return this.#served().pair;
  }

  /** The client CA bundle (PEM), when one is configured. */
  clientCaPem(): string | undefined {
    return this.#clientCa?.value;
  }

  /** The current material as one SecureContext (for an SNICallback, or a tls.connect test). */
  secureContext(): SecureContext {
    this.#context ??= createSecureContext(this.secureContextOptions());
    return this.#context;
  }

  /** Everything `setSecureContext` needs, in the current version. */
  secureContextOptions(): KubeletSecureContextOptions {
    const { cert, key } = this.pem();
    const ca = this.clientCaPem();
    return { cert, key, minVersion: 'TLSv1.2', ...(ca === undefined ? {} : { ca }) };
  }

  /**
   * Options for https.createServer / fastify({ https }). With a client CA the server asks for a
   * client certificate but lets a connection without one (or with a bad one) through: authentication
   * decides, and a bearer token may still do. Without a client CA no certificate is asked for.
   */
  serverOptions(): ServerOptions {
    return { ...this.secureContextOptions(), requestCert: this.verifiesClientCertificates, rejectUnauthorized: false };
  }

  /** The x509 identity of a connection, or undefined (also whenever no client CA is configured). */
  identity(peer: TlsPeer): X509Identity | undefined {
    return this.verifiesClientCertificates ? x509Identity(peer) : undefined;
  }

  /** Calls `listener` after each reload. Returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Gives `server` the newest material on each reload, for every new connection from then on. */
  attach(server: SecureContextTarget): () => void {
    return this.onChange(() => {
      server.setSecureContext(this.secureContextOptions());
    });
  }

  /** Reads the files again (renews a self-signed certificate 30 days before it expires). True when anything changed. */
  async refresh(): Promise<boolean> {
    const changed = [await this.#refreshServing(), await this.#refreshClientCa()].includes(true);
    if (!changed) return false;
    this.#context = undefined;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.#d.log.warn({ err }, 'a kubelet TLS reload listener failed');
      }
    }
    return true;
  }

  /** Refreshes every reloadIntervalMs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const every = this.#d.reloadIntervalMs ?? defaultReloadMs;
    const stopping = (): boolean => signal.aborted;
    while (!stopping()) {
      await this.#d.clock.sleep(every, signal).catch(() => undefined);
      if (stopping()) return;
      try {
        await this.refresh();
      } catch (err) {
        this.#d.log.warn({ err }, 'kubelet TLS reload failed');
      }
    }
  }

  #served(): Served {
    return this.#selfSigned ?? (this.#servingFiles as WatchedFiles<Served>).value;
  }

  async #refreshServing(): Promise<boolean> {
    if (this.#servingFiles === undefined) return this.#renewSelfSigned();
    const { certFile, keyFile } = this.#files;
    const outcome = await this.#servingFiles.refresh();
    if (outcome === 'same') return false;
    if (outcome !== 'taken') {
      this.#d.log.warn({ certFile, keyFile, problem: outcome.problem }, 'kubelet serving certificate files changed but are not a usable pair; keeping the previous certificate');
      return false;
    }
    const leaf = this.#servingFiles.value.leaf;
    this.#d.log.info({ certFile, subject: leaf.subject, validTo: leaf.validTo, sha256: leaf.fingerprint256 }, 'kubelet serving certificate reloaded');
    return true;
  }

  async #renewSelfSigned(): Promise<boolean> {
    const current = this.#selfSigned;
    const now = this.#d.clock.now();
    if (current === undefined || Date.parse(current.leaf.validTo) - now.getTime() > renewBeforeMs) return false;
    this.#selfSigned = await generateSelfSigned(this.#d.nodeName, this.#d.nodeIP, now);
    this.#warnSelfSigned();
    return true;
  }

  async #refreshClientCa(): Promise<boolean> {
    if (this.#clientCa === undefined) return false;
    const clientCaFile = this.#files.clientCaFile;
    const outcome = await this.#clientCa.refresh();
    if (outcome === 'same') return false;
    if (outcome !== 'taken') {
      this.#d.log.warn({ clientCaFile, problem: outcome.problem }, 'kubelet client CA file changed but is not usable; keeping the previous bundle');
      return false;
    }
    this.#d.log.info({ clientCaFile }, 'kubelet client CA reloaded');
    return true;
  }

  #warnSelfSigned(): void {
    const leaf = this.#served().leaf;
    this.#d.log.warn(
      { node: this.#d.nodeName, subjectAltName: leaf.subjectAltName, validTo: leaf.validTo },
      'Warning: the kubelet API serves a self-signed certificate. `kubectl logs`, exec and port-forward through an apiserver that ' +
        'verifies kubelet certificates (--kubelet-certificate-authority), and metrics-server without --kubelet-insecure-tls, ' +
        'will refuse it. Set kubeletApi.tlsCertFile and kubeletApi.tlsKeyFile to a PEM certificate and key (a ' +
        'kubernetes.io/kubelet-serving certificate, or one from cert-manager, with the node name and InternalIP as SANs); ' +
        'ORCA reloads them when they change.',
    );
  }
}
