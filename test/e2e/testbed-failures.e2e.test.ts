// A component that fails must be named, with its log file, and nothing the bed started may be left.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestbed } from './testbed/testbed.js';

function processesUsing(dir: string): string {
  try {
    return execFileSync('pgrep', ['-af', dir]).toString();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

describe('test bed failures', () => {
  it('names kube-apiserver and its log when it exits at start-up, and stops etcd behind it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orca-testbed-fail-'));
    const started = startTestbed({ dir, controllers: false, moto: false, extraArgs: { 'kube-apiserver': ['--no-such-flag'] } });
    const e = await started.then(() => undefined, (x: unknown) => x as Error);
    expect(e?.message).toMatch(/^test bed: kube-apiserver: exited \(code 1\) before it was ready/);
    expect(e?.message).toContain(`log file: ${join(dir, 'logs', 'kube-apiserver.log')}`);
    expect(e?.message).toContain('unknown flag: --no-such-flag');
    expect(processesUsing(dir)).toBe('');
  });

  it('names moto and its log when it cannot start, and stops the control plane it had started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orca-testbed-fail-'));
    const started = startTestbed({ dir, moto: true, controllers: false, extraArgs: { moto: ['--no-such-option'] } });
    const e = await started.then(() => undefined, (x: unknown) => x as Error);
    expect(e?.message).toMatch(/^test bed: moto: exited \(code 2\) before it was ready/);
    expect(e?.message).toContain(`log file: ${join(dir, 'logs', 'moto.log')}`);
    expect(processesUsing(dir)).toBe('');
  });
});
