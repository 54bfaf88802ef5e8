// AssignmentStore over SSM Parameter Store: the assignment is gzipped, base64-encoded and cut into
// parts of at most 4096 characters (the standard tier: no charge), each a SecureString encrypted with
// the account's SSM key (or the configured KMS key) at <prefix>/<instance-id>/part-NNN. The agent
// reads them in one GetParametersByPath, in name order. Values are never logged.
import { gzipSync } from 'node:zlib';
import { DeleteParametersCommand, paginateGetParametersByPath, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { AssignmentStore } from '../ports/assignments.js';
import { withSignal } from './sdk-util.js';

export const partChars = 4096;

/** The parameter values of one assignment, in order. */
export function assignmentParts(text: string): string[] {
  const packed = gzipSync(Buffer.from(text, 'utf8'), { level: 9 }).toString('base64');
  const parts: string[] = [];
  for (let i = 0; i < packed.length; i += partChars) parts.push(packed.slice(i, i + partChars));
  return parts;
}

export function createSsmAssignmentStore(ssm: SSMClient, o: { readonly prefix: string; readonly kmsKeyId?: string | undefined }): AssignmentStore {
  const path = (id: string): string => `${o.prefix}/${id}/`;
  const existing = async (id: string, signal?: AbortSignal): Promise<string[]> => {
    const names: string[] = [];
    for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: path(id), WithDecryption: false })) {
      signal?.throwIfAborted();
      for (const p of page.Parameters ?? []) if (p.Name !== undefined) names.push(p.Name);
    }
    return names;
  };
  const removeNames = async (names: readonly string[], signal?: AbortSignal): Promise<void> => {
    for (let i = 0; i < names.length; i += 10) await ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }), withSignal(signal));
  };
  return {
    async put(id, text, signal) {
      const parts = assignmentParts(text);
      const names = parts.map((_, i) => `${path(id)}part-${String(i).padStart(3, '0')}`);
      for (const [i, Value] of parts.entries()) {
        await ssm.send(new PutParameterCommand({
          Name: names[i], Value, Type: 'SecureString', Overwrite: true, Tier: 'Standard', ...(o.kmsKeyId === undefined ? {} : { KeyId: o.kmsKeyId }),
        }), withSignal(signal));
      }
    },
    async remove(id, signal) {
      await removeNames(await existing(id, signal), signal);
    },
  };
}
