import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createSsmSignals } from './ssm-signals.js';

describe('SSM signals', () => {
  it('asks the instance to stop its pod with one Run Command that touches the agent\'s stop file', async () => {
    const ssm = mockClient(SSMClient);
    ssm.on(SendCommandCommand).resolves({});
    await createSsmSignals(new SSMClient({})).stop('i-0abc');
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input).toEqual({
      InstanceIds: ['i-0abc'], DocumentName: 'AWS-RunShellScript', Comment: 'ORCA: stop the pod on i-0abc', TimeoutSeconds: 60,
      Parameters: { commands: ['touch "${ORCA_HOME:-/var/lib/orca}/stop"'] },
    });
  });
});
