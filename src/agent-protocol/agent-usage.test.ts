// The agent's measure_usage (agent/orca-agent.sh) run by sh with stand-ins for docker, nvidia-smi
// and the AWS CLI: the usage tag it writes, read back with parseUsage.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maxTagValueLength, parseUsage } from './usage.js';

const agent = readFileSync(new URL('../../agent/orca-agent.sh', import.meta.url), 'utf8');
const functions = agent.replace(/\nmain "\$@"\n$/, '\n');
const mib = 2 ** 20;

let dir: string;

const script = (name: string, body: string): void => {
  writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, 'bin', name), 0o755);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orca-agent-usage-'));
  execFileSync('mkdir', ['-p', join(dir, 'bin'), join(dir, 'home')]);
  writeFileSync(join(dir, 'agent.sh'), functions);
  // docker stats answers what stats.txt holds for the names asked; the AWS CLI records each call.
  script('docker', '[ "$1 $2" = "stats --no-stream" ] || exit 125\nshift 4\nfor n in "$@"; do grep "^$n " "$ORCA_TEST/stats.txt"; done; exit 0');
  script('aws', 'printf "%s\\n" "$*" >>"$ORCA_TEST/aws.log"');
  writeFileSync(join(dir, 'stats.txt'), '');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `commands` after the agent's functions, with ORCA_CONTAINERS and each container's state. */
function run(containers: Record<string, { state: string; restarts?: number }>, commands = 'measure_usage'): void {
  const setup = Object.entries(containers).map(([c, s]) => `cset ${c} state ${s.state}; cset ${c} restarts ${String(s.restarts ?? 0)}`).join('\n');
  execFileSync('sh', ['-c', `. ./agent.sh\nORCA_CONTAINERS='${Object.keys(containers).join(' ')}'\n${setup}\n${commands}`], {
    cwd: dir, env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, ORCA_HOME: join(dir, 'home'), ORCA_TEST: dir, REGION: 'us-east-1', ID: 'i-0abc' },
  });
}

/** The usage values the agent wrote, in order. */
function written(): string[] {
  const file = join(dir, 'aws.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('orca.research/usage')).map((l) => (JSON.parse(l.slice(l.indexOf('['))) as { Value: string }[])[0]?.Value ?? '');
}

describe('the agent\'s usage report', () => {
  it('reports each container\'s run in the pod\'s order with two significant digits, and the GPUs together', () => {
    writeFileSync(join(dir, 'stats.txt'), 'orca-main-2 153.40% 1.234GiB / 15.5GiB\norca-log-0 0.04% 500KiB / 15.5GiB\n');
    script('nvidia-smi', '[ "$*" = "--query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits" ] || exit 2\nprintf "87, 30512, 81559\\n80, 30000, 81559\\n"');
    const before = Math.floor(Date.now() / 1000);
    run({ main: { state: 'running', restarts: 2 }, side: { state: 'waiting' }, log: { state: 'running' } });
    const [value] = written();
    expect(value).toMatch(/^u1 \d+ nvidia:2:84:61000:163118 2:1500:1300 - 0:1:1$/);
    const u = parseUsage(value);
    expect(u?.measuredAt).toBeGreaterThanOrEqual(before * 1000);
    expect(u?.containers).toEqual([{ run: 2, cpuMillicores: 1500, memoryBytes: 1300 * mib }, undefined, { run: 0, cpuMillicores: 1, memoryBytes: mib }]);
    expect(u?.accelerators).toEqual([{ kind: 'nvidia', count: 2, utilization: 0.84, memoryUsedBytes: 61000 * mib, memoryTotalBytes: 163118 * mib }]);
  });

  it('leaves out accelerators without nvidia-smi, and a container docker shows no memory for', () => {
    writeFileSync(join(dir, 'stats.txt'), 'orca-main-0 0.00% 0B / 0B\n');
    run({ main: { state: 'running' } });
    expect(written()[0]).toMatch(/^u1 \d+ -$/);
  });

  it('leaves out GPUs nvidia-smi cannot read', () => {
    writeFileSync(join(dir, 'stats.txt'), 'orca-main-0 10.00% 10MiB / 1GiB\n');
    script('nvidia-smi', 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9');
    run({ main: { state: 'running' } });
    expect(written()[0]).toMatch(/^u1 \d+ 0:100:10$/);
  });

  it('measures at most once a minute, and writes the tag again only when a value changed or 10 minutes passed', () => {
    writeFileSync(join(dir, 'stats.txt'), 'orca-main-0 50.00% 100MiB / 1GiB\n');
    const main = { main: { state: 'running' } };
    run(main);
    run(main, 'measure_usage; cset pod usage_next 0; measure_usage');
    expect(written()).toHaveLength(1);
    writeFileSync(join(dir, 'stats.txt'), 'orca-main-0 50.00% 180MiB / 1GiB\n');
    run(main);
    expect(written()).toHaveLength(1);
    run(main, 'cset pod usage_next 0; measure_usage');
    expect(written().map((v) => v.split(' ').slice(2).join(' '))).toEqual(['0:500:100', '0:500:180']);
    // A second later (the agent's clock has seconds), the refresh is due.
    run(main, 'sleep 1; cset pod usage_next 0; cset pod usage_refresh 0; measure_usage');
    expect(written()).toHaveLength(3);
  });

  it('stays within EC2\'s 256 characters for 40 containers of the widest figures: 9 listed, the others summed', () => {
    const names = Array.from({ length: 40 }, (_, i) => `c${String(i)}`);
    writeFileSync(join(dir, 'stats.txt'), names.map((n) => `orca-${n}-9999 44800.00% 24TiB / 24TiB`).join('\n'));
    script('nvidia-smi', 'i=0; while [ $i -lt 16 ]; do echo "100, 97871, 98304"; i=$((i + 1)); done');
    run(Object.fromEntries(names.map((n) => [n, { state: 'running', restarts: 9999 }])));
    const [value = ''] = written();
    expect(value.length).toBeLessThanOrEqual(maxTagValueLength);
    const u = parseUsage(value);
    expect(u?.containers).toHaveLength(9);
    expect(u?.containers[0]).toEqual({ run: 9999, cpuMillicores: 450000, memoryBytes: 25_000_000 * mib });
    expect(u?.rest).toEqual({ containers: 31, cpuMillicores: 14_000_000, memoryBytes: 780_000_000 * mib });
  });

  it('lists every container of a pod of 10 at the widest figures', () => {
    const names = Array.from({ length: 10 }, (_, i) => `c${String(i)}`);
    writeFileSync(join(dir, 'stats.txt'), names.map((n) => `orca-${n}-9999 44800.00% 24TiB / 24TiB`).join('\n'));
    script('nvidia-smi', 'i=0; while [ $i -lt 16 ]; do echo "100, 97871, 98304"; i=$((i + 1)); done');
    run(Object.fromEntries(names.map((n) => [n, { state: 'running', restarts: 9999 }])));
    const [value = ''] = written();
    expect(value.length).toBeLessThanOrEqual(maxTagValueLength);
    expect(parseUsage(value)?.containers).toHaveLength(10);
    expect(parseUsage(value)).not.toHaveProperty('rest');
  });
});
