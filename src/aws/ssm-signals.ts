// InstanceSignals over SSM Run Command (the SSM agent is on the Deep Learning and Amazon Linux
// AMIs): the stop request is a file the ORCA agent looks for on every round, so the agent never
// polls an AWS API, and ORCA makes one call per stop.
import { SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { InstanceSignals } from '../ports/signals.js';
import { withSignal } from './sdk-util.js';

/** The agent's stop file (ORCA_HOME is /var/lib/orca on an instance). */
export const stopCommand = 'touch "${ORCA_HOME:-/var/lib/orca}/stop"';

export function createSsmSignals(ssm: SSMClient): InstanceSignals {
  return {
    async stop(instanceId, signal) {
      await ssm.send(new SendCommandCommand({
        InstanceIds: [instanceId], DocumentName: 'AWS-RunShellScript', Comment: `ORCA: stop the pod on ${instanceId}`, TimeoutSeconds: 60,
        Parameters: { commands: [stopCommand] },
      }), withSignal(signal));
    },
  };
}
