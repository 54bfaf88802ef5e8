import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentSettings, agentUserData, userDataLimitBytes } from './user-data.js';

const agent = readFileSync(new URL('../../agent/orca-agent.sh', import.meta.url), 'utf8');

describe('agentUserData', () => {
  it('is the agent after the cluster settings, under EC2\'s 16 KB limit, and valid sh', () => {
    const text = agentUserData(agentSettings('a-cluster-id-of-the-longest-allowed-length-sixty-three-chars-xx'), agent);
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThan(userDataLimitBytes);
    expect(text).toContain("ORCA_PARAM_PREFIX='/orca/a-cluster-id-of-the-longest-allowed-length-sixty-three-chars-xx/instances'");
    execFileSync('sh', ['-n', '-c', text]);
    process.stdout.write(`user data figures: ${JSON.stringify({ bytes: Buffer.byteLength(text), limit: userDataLimitBytes })}\n`);
  });

  it('refuses an agent that would not fit', () => {
    expect(() => agentUserData(agentSettings('lab'), '#'.repeat(userDataLimitBytes))).toThrow(/bytes; EC2 allows 16384/);
  });
});
