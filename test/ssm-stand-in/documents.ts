// Test double of AWS Session Manager: Session documents as the stand-in reads them. AWS owns the
// AWS-* documents and moto preloads none, so the ones ORCA may use are built in here (their text
// written after AWS's published documents; the host pattern is an approximation). A document is
// resolved the way the agent does it: missing parameters take their default, allowedValues and
// allowedPattern are enforced, then `{{ name }}` is substituted textually into `properties`. The
// stand-in checks parameters when StartSession is called (the real agent checks them after the
// session has started; either way the session does not run).

/** One declared document parameter. */
export interface ParameterSpec {
  readonly type?: string;
  readonly default?: unknown;
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
}

/** The parts of a Session document the stand-in reads. */
export interface SessionDocument {
  readonly schemaVersion?: string;
  readonly sessionType?: string;
  readonly parameters?: Readonly<Record<string, ParameterSpec>>;
  readonly properties?: unknown;
}

/** What a session runs: a command under a pty, or port forwarding. */
export type SessionPlan =
  | { readonly kind: 'shell'; readonly sessionType: 'InteractiveCommands' | 'Standard_Stream'; readonly command: string }
  | {
    readonly kind: 'port';
    /** The document's properties after substitution, sent in the HandshakeRequest. */
    readonly properties: Readonly<Record<string, unknown>>;
    readonly host: string;
    readonly port: number;
    /** type LocalPortForwarding: smux when the client is new enough. */
    readonly local: boolean;
  };

/** A document or its parameters refused, with the AWS error code StartSession answers. */
export class DocumentError extends Error {
  constructor(readonly awsCode: 'InvalidDocument' | 'InvalidParameters', message: string) {
    super(message);
  }
}

/** The document a StartSession without DocumentName uses. */
export const defaultDocument = 'SSM-SessionManagerRunShell';

const portPattern = '^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';
const localPortPattern = '^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';
const portParameters = {
  portNumber: { type: 'String', default: '80', allowedPattern: portPattern },
  localPortNumber: { type: 'String', default: '0', allowedPattern: localPortPattern },
};

/** The AWS-owned documents the stand-in knows without moto. */
export const builtInDocuments: ReadonlyMap<string, SessionDocument> = new Map<string, SessionDocument>([
  ['AWS-StartPortForwardingSession', {
    schemaVersion: '1.0', sessionType: 'Port', parameters: portParameters,
    properties: { portNumber: '{{ portNumber }}', type: 'LocalPortForwarding', localPortNumber: '{{ localPortNumber }}' },
  }],
  ['AWS-StartPortForwardingSessionToRemoteHost', {
    schemaVersion: '1.0', sessionType: 'Port',
    parameters: { ...portParameters, host: { type: 'String', allowedPattern: '^[a-zA-Z0-9.:_-]+$' } },
    properties: { portNumber: '{{ portNumber }}', type: 'LocalPortForwarding', host: '{{ host }}', localPortNumber: '{{ localPortNumber }}' },
  }],
  ['AWS-StartInteractiveCommand', {
    schemaVersion: '1.0', sessionType: 'InteractiveCommands',
    parameters: { command: { type: 'String' } },
    properties: { linux: { commands: '{{ command }}', runAsElevated: false } },
  }],
  [defaultDocument, { schemaVersion: '1.0', sessionType: 'Standard_Stream', properties: {} }],
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function valueOf(name: string, spec: ParameterSpec, given: readonly string[] | undefined): string {
  if (given === undefined) {
    if (spec.default === undefined) throw new DocumentError('InvalidParameters', `Parameter "${name}" is required and has no default.`);
    return typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default);
  }
  if (spec.type === 'StringList') return given.join(',');
  if (given.length !== 1 || given[0] === undefined) throw new DocumentError('InvalidParameters', `Parameter "${name}" takes one value, got ${given.length}.`);
  return given[0];
}

function check(name: string, spec: ParameterSpec, value: string): void {
  if (spec.allowedValues !== undefined && !spec.allowedValues.includes(value)) {
    throw new DocumentError('InvalidParameters', `Parameter "${name}" has value "${value}" not in its allowed values.`);
  }
  if (spec.allowedPattern !== undefined && !new RegExp(spec.allowedPattern).test(value)) {
    throw new DocumentError('InvalidParameters', `Parameter "${name}" has value "${value}" not matching its allowed pattern ${spec.allowedPattern}.`);
  }
}

/** The parameter values, checked against the document's declarations. */
export function parameterValues(doc: SessionDocument, given: Readonly<Record<string, readonly string[]>>): Map<string, string> {
  const declared = doc.parameters ?? {};
  const unknown = Object.keys(given).filter((k) => !Object.hasOwn(declared, k));
  if (unknown.length > 0) throw new DocumentError('InvalidParameters', `Parameters ${unknown.join(', ')} are not defined in the document.`);
  const values = new Map<string, string>();
  for (const [name, spec] of Object.entries(declared)) {
    const value = valueOf(name, spec, given[name]);
    check(name, spec, value);
    values.set(name, value);
  }
  return values;
}

/** `{{ name }}` replaced in every string of `v`, without quoting (as the agent does); other references stay. */
export function substitute(v: unknown, values: ReadonlyMap<string, string>): unknown {
  if (typeof v === 'string') return v.replace(/\{\{\s*([A-Za-z0-9_.:-]+)\s*\}\}/g, (all: string, name: string) => values.get(name) ?? all);
  if (Array.isArray(v)) return v.map((x) => substitute(x, values));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, values)]));
  return v;
}

function portPlan(properties: Record<string, unknown>): SessionPlan {
  const port = Number(properties.portNumber);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new DocumentError('InvalidParameters', `portNumber ${String(properties.portNumber)} is not a port.`);
  const host = typeof properties.host === 'string' && properties.host !== '' ? properties.host : '127.0.0.1';
  return { kind: 'port', properties, host, port, local: properties.type === 'LocalPortForwarding' };
}

function shellCommand(properties: Record<string, unknown>): string {
  const commands = isRecord(properties.linux) ? properties.linux.commands : undefined;
  if (typeof commands !== 'string' || commands === '') throw new DocumentError('InvalidDocument', 'InteractiveCommands document without properties.linux.commands.');
  return commands;
}

/** Parses a document's content (JSON text or an object) and plans its session. Throws DocumentError. */
export function planSession(content: unknown, given: Readonly<Record<string, readonly string[]>>): SessionPlan {
  let doc: unknown = content;
  try {
    if (typeof content === 'string') doc = JSON.parse(content);
  } catch {
    throw new DocumentError('InvalidDocument', 'The document content is not JSON.');
  }
  if (!isRecord(doc)) throw new DocumentError('InvalidDocument', 'The document content is not an object.');
  const d = doc as SessionDocument;
  if (d.schemaVersion !== undefined && d.schemaVersion !== '1.0') throw new DocumentError('InvalidDocument', `Session documents have schemaVersion 1.0, not ${d.schemaVersion}.`);
  const properties = substitute(d.properties ?? {}, parameterValues(d, given));
  if (!isRecord(properties)) throw new DocumentError('InvalidDocument', 'The document properties are not an object.');
  switch (d.sessionType) {
    case 'Port': return portPlan(properties);
    case 'InteractiveCommands': return { kind: 'shell', sessionType: 'InteractiveCommands', command: shellCommand(properties) };
    case 'Standard_Stream': return { kind: 'shell', sessionType: 'Standard_Stream', command: 'sh' };
    default: throw new DocumentError('InvalidDocument', `sessionType ${String(d.sessionType)} is not implemented by the Session Manager stand-in.`);
  }
}
