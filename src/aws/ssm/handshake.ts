// The data-channel handshake (shared/reference/ssm-session.md §2.7): the agent's HandshakeRequest
// lists client actions; ORCA accepts the SessionType action (ActionStatus 1) and answers every
// other one Unsupported (3), which makes the agent cancel the session. A KMSEncryption action means
// the account's Session Manager preferences require KMS encryption, which ORCA does not implement.
import { SessionError } from '../../domain/errors.js';
import { parseJsonObject } from './agent-message.js';

export const ActionStatus = { success: 1, failed: 2, unsupported: 3 } as const;

/** Session types the plugin accepts in the SessionType action. */
const knownSessionTypes: ReadonlySet<string> = new Set(['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands', 'Port']);

export interface ProcessedAction {
  readonly ActionType: string;
  readonly ActionStatus: number;
  readonly ActionResult: null;
  readonly Error: string;
}

/** What to answer and whether the session can go on. */
export interface HandshakeAnswer {
  /** The HandshakeResponse payload; absent when the request could not be read. */
  readonly response?: Buffer;
  /** Why the session cannot go on (after the response is sent). */
  readonly error?: SessionError;
  readonly agentVersion: string;
  readonly sessionType: string;
}

const kmsMessage = "the account's Session Manager preferences require KMS encryption of session data, which ORCA does not support yet";

interface Outcome {
  readonly action: ProcessedAction;
  readonly error?: SessionError;
  readonly sessionType?: string;
}

const processed = (type: string, status: number, error = ''): ProcessedAction => ({ ActionType: type, ActionStatus: status, ActionResult: null, Error: error });

function sessionTypeOf(parameters: unknown): string {
  if (typeof parameters !== 'object' || parameters === null) return '';
  const t = (parameters as Record<string, unknown>)['SessionType'];
  return typeof t === 'string' ? t : '';
}

function processAction(a: unknown): Outcome {
  const o = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {};
  const type = typeof o['ActionType'] === 'string' ? o['ActionType'] : '';
  if (type === 'KMSEncryption') {
    return { action: processed(type, ActionStatus.unsupported, 'KMS encryption is not supported by this client'), error: new SessionError('encryption-unsupported', kmsMessage) };
  }
  if (type !== 'SessionType') {
    const text = `unsupported handshake action ${JSON.stringify(type)}`;
    return { action: processed(type, ActionStatus.unsupported, text), error: new SessionError('handshake', `the instance's agent asked for an ${text}`) };
  }
  const sessionType = sessionTypeOf(o['ActionParameters']);
  if (!knownSessionTypes.has(sessionType)) {
    const text = `unknown session type ${JSON.stringify(sessionType)}`;
    return { action: processed(type, ActionStatus.failed, text), error: new SessionError('handshake', `the instance's agent started an ${text}`), sessionType };
  }
  return { action: processed(type, ActionStatus.success), sessionType };
}

/** Encryption problems first: they are the ones a user can act on. */
const firstError = (outcomes: readonly Outcome[]): SessionError | undefined =>
  outcomes.find((o) => o.error?.kind === 'encryption-unsupported')?.error ?? outcomes.find((o) => o.error !== undefined)?.error;

function readRequest(request: Uint8Array): Readonly<Record<string, unknown>> | SessionError {
  try {
    return parseJsonObject(request, 'handshake request');
  } catch (e) {
    return new SessionError('handshake', 'the instance\'s agent sent an unreadable handshake request', { cause: e });
  }
}

/** The answer to a HandshakeRequest payload. */
export function answerHandshake(request: Uint8Array, clientVersion: string): HandshakeAnswer {
  const o = readRequest(request);
  if (o instanceof SessionError) return { error: o, agentVersion: '', sessionType: '' };
  const actions = Array.isArray(o['RequestedClientActions']) ? (o['RequestedClientActions'] as unknown[]) : [];
  const outcomes = actions.map(processAction);
  const errors = outcomes.flatMap((x) => (x.action.Error === '' ? [] : [x.action.Error]));
  const response = Buffer.from(JSON.stringify({
    ClientVersion: clientVersion, ProcessedClientActions: outcomes.map((x) => x.action), Errors: errors.length === 0 ? null : errors,
  }), 'utf8');
  const error = firstError(outcomes);
  const agentVersion = typeof o['AgentVersion'] === 'string' ? o['AgentVersion'] : '';
  const sessionType = outcomes.find((x) => x.sessionType !== undefined)?.sessionType ?? '';
  return error === undefined ? { response, agentVersion, sessionType } : { response, error, agentVersion, sessionType };
}

/** The CustomerMessage of a HandshakeComplete payload ('' when none or unreadable). */
export function handshakeCustomerMessage(payload: Uint8Array): string {
  try {
    const m = parseJsonObject(payload, 'handshake complete')['CustomerMessage'];
    return typeof m === 'string' ? m : '';
  } catch {
    return '';
  }
}
