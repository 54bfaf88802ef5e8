// The one table of the SSM API errors the session code meets, mapped to SessionError kinds
// (TargetNotConnected: the instance's agent is not registered yet; throttling was already retried
// by the SDK). A Map, not an object literal, so 'constructor' or 'toString' cannot match.
import { SessionError, type SessionErrorKind } from '../../domain/errors.js';

const kindByName: ReadonlyMap<string, SessionErrorKind> = new Map<string, SessionErrorKind>([
  ['TargetNotConnected', 'not-connected'],
  ['AccessDeniedException', 'unauthorized'],
  ['AccessDenied', 'unauthorized'],
  ['UnrecognizedClientException', 'unauthorized'],
  ['ExpiredTokenException', 'unauthorized'],
  ['InvalidDocument', 'invalid-document'],
  ['InvalidDocumentContent', 'invalid-document'],
  ['InvalidDocumentSchemaVersion', 'invalid-document'],
  ['InvalidDocumentType', 'invalid-document'],
  ['InvalidDocumentVersion', 'invalid-document'],
  ['InvalidParameters', 'invalid-document'],
  ['ThrottlingException', 'throttled'],
  ['Throttling', 'throttled'],
  ['TooManyRequestsException', 'throttled'],
  ['RequestLimitExceeded', 'throttled'],
  ['TooManyUpdates', 'throttled'],
]);

/** The SDK error's code (its name), '' for anything else. */
export const awsErrorName = (e: unknown): string => (e instanceof Error ? e.name : '');

export function sessionErrorKind(e: unknown): SessionErrorKind {
  return kindByName.get(awsErrorName(e)) ?? 'unknown';
}

const describe = (kind: SessionErrorKind, api: string, code: string): string => {
  switch (kind) {
    case 'not-connected': return `the instance's SSM agent is not connected (${code})`;
    case 'unauthorized': return `ORCA is not allowed to call ${api} (${code})`;
    case 'invalid-document': return `${api} refused the Session document or its parameters (${code})`;
    case 'throttled': return `${api} was throttled (${code})`;
    default: return `${api} failed (${code})`;
  }
};

/** `e` from the SSM call `api` as a SessionError, the SDK error as its cause. */
export function sessionErrorFrom(e: unknown, api: string): SessionError {
  if (e instanceof SessionError) return e;
  const kind = sessionErrorKind(e);
  const code = awsErrorName(e) || 'Error';
  const detail = e instanceof Error && e.message !== '' ? `: ${e.message}` : '';
  return new SessionError(kind, `${describe(kind, api, code)}${detail}`, { cause: e });
}
