// What one `orca doctor` check says: pass, fail (with the fix) or skip (with why).
import { StartupError } from '../domain/errors.js';
import type { StartupConfig } from './startup.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a failure. */
  readonly fix?: string;
}

export interface DoctorConfig extends StartupConfig {
  readonly instanceProfileArn?: string | undefined;
  readonly images: Readonly<Record<'nvidia' | 'neuron' | 'cpu', string>>;
  /** Where ORCA keeps assignments (SSM) and the containers' logs (CloudWatch Logs). */
  readonly paramPrefix: string;
  readonly logGroup: string;
}

export const pass = (check: string, detail: string): CheckResult => ({ check, status: 'pass', detail });
export const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skip', detail });
export const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });

/** A check that threw: its StartupError's message and fix, else AWS's or the apiserver's code and message. */
export function failure(check: string, err: unknown, fix: string): CheckResult {
  if (err instanceof StartupError) return fail(check, err.message, err.fix);
  const e = err instanceof Error ? err : new Error(String(err));
  const message = e.message.split('\n')[0] ?? '';
  const denied = /AccessDenied|UnauthorizedOperation|not authorized/i.test(`${e.name} ${message}`);
  return fail(check, e.name === 'Error' ? message : `${e.name}: ${message}`, denied ? fix : `${fix} (if the error is transient, run orca doctor again)`);
}

/** `run`'s result, or its failure with `fix`. */
export async function guarded(check: string, fix: string, run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (e) {
    return failure(check, e, fix);
  }
}
