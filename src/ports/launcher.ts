// Launching and finding ORCA's EC2 instances, in ORCA's own terms. Implemented in aws/.
import type { Instance, LaunchSpec } from '../domain/instance.js';

export interface InstanceLauncher {
  /**
   * Launches up to `spec.count` identical workers (at least one, or a LaunchError). Repeating a
   * call with the same clientToken returns the instances of the first call. With `spec.dryRun`
   * nothing is launched: resolves with [] when EC2 says the call would have succeeded.
   */
  launch(spec: LaunchSpec, signal?: AbortSignal): Promise<readonly Instance[]>;
  /** Adds or overwrites tags on the instances (the pod a batched instance was given). */
  tag(ids: readonly string[], tags: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void>;
  /**
   * Terminates the instances; ids already gone are not an error. Throws TerminateRefusedError when
   * EC2 refuses some of them (termination protection, a state it will not terminate from): none of
   * the call's are then terminated.
   */
  terminate(ids: readonly string[], signal?: AbortSignal): Promise<void>;
  /** Lifts the instance's termination protection (DisableApiTermination=false). */
  unprotect(id: string, signal?: AbortSignal): Promise<void>;
  /** Every instance carrying `tagKey=tagValue`, in any state, in as few DescribeInstances calls as pages. */
  listTagged(tagKey: string, tagValue: string, signal?: AbortSignal): Promise<readonly Instance[]>;
}
