// Where a pod's assignment waits for its instance's agent (architecture §2). Implemented in aws/
// over SSM Parameter Store SecureStrings that only that instance's role can read.
export interface AssignmentStore {
  /** Stores the assignment of the pod the instance runs (an instance gets one; remove() first to replace it). */
  put(instanceId: string, text: string, signal?: AbortSignal): Promise<void>;
  /** Deletes it; an instance without one is not an error. */
  remove(instanceId: string, signal?: AbortSignal): Promise<void>;
}
