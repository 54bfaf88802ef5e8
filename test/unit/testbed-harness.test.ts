// The harness's own failure paths, with plain shell commands standing in for components.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startComponent } from '../e2e/testbed/component.js';
import { TestbedError } from '../e2e/testbed/errors.js';
import { readVersions, requireBinary } from '../e2e/testbed/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'orca-harness-'));

describe('test bed harness', () => {
  it('reads every version from the one versions file', () => {
    const v = readVersions();
    expect(v.kubernetes).toMatch(/^1\.\d+\.\d+$/);
    expect(v.etcd).toMatch(/^3\.\d+\.\d+$/);
  });

  it('names a versions file that lacks a key', () => {
    const f = join(dir, 'versions.env');
    writeFileSync(f, 'ORCA_K8S_VERSION=1.35.4\n');
    expect(() => readVersions(f)).toThrow(`test bed: versions: ORCA_ETCD_VERSION missing from ${f}`);
  });

  it('names a missing binary and the command that builds it', () => {
    expect(() => requireBinary('etcd', '/nonexistent/etcd'))
      .toThrow('test bed: etcd: binary not found at /nonexistent/etcd; run `npm run testbed:build` first');
  });

  it('names a component that exits before it is ready, with its log file and last lines', async () => {
    const logFile = join(dir, 'exits.log');
    const e = await startComponent({
      name: 'fake-etcd', command: '/bin/sh', args: ['-c', 'echo "bad data dir" >&2; exit 3'],
      logFile, ready: () => Promise.resolve(false), readyTimeoutMs: 5000,
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TestbedError);
    expect((e as TestbedError).component).toBe('fake-etcd');
    expect((e as Error).message).toBe(
      `test bed: fake-etcd: exited (code 3) before it was ready\n  log file: ${logFile}\n  last 1 lines:\n    bad data dir`,
    );
  });

  it('stops and names a component that never becomes ready', async () => {
    const logFile = join(dir, 'hangs.log');
    const e = await startComponent({
      name: 'fake-apiserver', command: '/bin/sh', args: ['-c', 'echo waiting; exec sleep 30'],
      logFile, ready: () => Promise.resolve(false), readyTimeoutMs: 600,
    }).catch((x: unknown) => x as Error);
    expect((e as Error).message).toMatch(/^test bed: fake-apiserver: not ready after 0\.6s\n {2}log file: .*hangs\.log/);
  });

  it('returns a running component once its probe passes, and stops it', async () => {
    const c = await startComponent({
      name: 'fake-moto', command: '/bin/sh', args: ['-c', 'exec sleep 30'],
      logFile: join(dir, 'ok.log'), ready: () => Promise.resolve(true), readyTimeoutMs: 2000,
    });
    expect(() => process.kill(c.pid, 0)).not.toThrow();
    await c.stop();
    expect(() => process.kill(c.pid, 0)).toThrow();
  });
});
