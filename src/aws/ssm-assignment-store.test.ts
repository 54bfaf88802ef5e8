import { gunzipSync } from 'node:zlib';
import { DeleteParametersCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { assignmentParts, createSsmAssignmentStore, partChars } from './ssm-assignment-store.js';

const ssm = mockClient(SSMClient);
beforeEach(() => { ssm.reset(); });

/** Incompressible text, so that the assignment needs several parts. */
const noisy = (n: number): string => Array.from({ length: n }, (_, i) => ((i * 2654435761) >>> 0).toString(36)).join(' ');

describe('SSM assignment store', () => {
  it('stores an assignment as SecureString parts the agent can put back together in name order', async () => {
    const text = `# orca-assignment v1\n${noisy(2000)}`;
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    await createSsmAssignmentStore(new SSMClient({}), { prefix: '/orca/lab/instances', kmsKeyId: 'alias/orca' }).put('i-0abc', text);
    const puts = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts.length).toBeGreaterThan(1);
    expect(puts.map((p) => p.Name)).toEqual(puts.map((_, i) => `/orca/lab/instances/i-0abc/part-${String(i).padStart(3, '0')}`));
    for (const p of puts) expect(p).toMatchObject({ Type: 'SecureString', Overwrite: true, Tier: 'Standard', KeyId: 'alias/orca' });
    for (const p of puts) expect(p.Value?.length).toBeLessThanOrEqual(partChars);
    expect(gunzipSync(Buffer.from(puts.map((p) => p.Value).join(''), 'base64')).toString()).toBe(text);
  });

  it('stores with puts only, and removes every part an instance has, ten per call', async () => {
    const store = createSsmAssignmentStore(new SSMClient({}), { prefix: '/orca/lab/instances' });
    await store.put('i-0abc', 'short');
    expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(0);
    expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(0);
    const old = Array.from({ length: 12 }, (_, i) => ({ Name: `/orca/lab/instances/i-0abc/part-${String(i).padStart(3, '0')}` }));
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: old });
    await store.remove('i-0abc');
    expect(ssm.commandCalls(DeleteParametersCommand).map((c) => c.args[0].input.Names)).toEqual([old.slice(0, 10).map((p) => p.Name), old.slice(10).map((p) => p.Name)]);
  });

  it('packs the largest supported assignment into a few parts', () => {
    expect(assignmentParts('x'.repeat(100_000)).length).toBe(1);
  });
});
