// Telling a running instance's agent something without waiting for it to ask: implemented in aws/
// with SSM Run Command, so that agents never poll an AWS API for it.
export interface InstanceSignals {
  /** Asks the agent to stop the pod's containers (SIGTERM, then SIGKILL after the grace period). */
  stop(instanceId: string, signal?: AbortSignal): Promise<void>;
}
