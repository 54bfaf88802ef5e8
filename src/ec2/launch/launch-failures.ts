// Why a pod got no instance, and what ORCA does about each reason: a table, so that a new reason
// cannot be added without deciding whether another round may fix it.
import type { FailureReason } from './placement.js';

export type LaunchFailureReason = FailureReason | 'DryRun' | 'RelaunchFailed';

/** Whether a later round (10, 20, 40, 80 s on) may get an instance; else the pod fails at once. */
export const retriedAfter: Readonly<Record<LaunchFailureReason, boolean>> = {
  NoCapacity: true,
  LaunchFailed: true,
  QuotaExceeded: false,
  LaunchUnauthorized: false,
  InvalidLaunch: false,
  DryRun: false,
  RelaunchFailed: false,
};
