// Pure: the Status a kubelet writes on the error stream when an exec or attach ends (v4 and later;
// kubelet-protocol.md §4.5), and the text older protocols write instead.
import type { ExecOutcome } from '../../provider/provider.js';

export interface ExecStatus {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly { readonly reason?: string; readonly message: string }[] };
  readonly code?: number;
}

export function execStatus(outcome: ExecOutcome): ExecStatus {
  if (outcome.kind === 'exited' && outcome.code === 0) return { metadata: {}, status: 'Success' };
  if (outcome.kind === 'exited') {
    return {
      metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: exit status ${String(outcome.code)}`,
      reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(outcome.code) }] },
    };
  }
  return {
    metadata: {}, status: 'Failure', message: `Internal error occurred: error executing command in container: ${outcome.message}`,
    reason: 'InternalError', details: { causes: [{ message: outcome.message }] }, code: 500,
  };
}

/** v1–v3: nothing on success, the message as text otherwise. */
export function execStatusText(outcome: ExecOutcome): string {
  if (outcome.kind === 'exited') return outcome.code === 0 ? '' : `command terminated with non-zero exit code: exit status ${String(outcome.code)}`;
  return `error executing command in container: ${outcome.message}`;
}
