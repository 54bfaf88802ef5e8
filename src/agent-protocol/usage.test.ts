import { describe, expect, it } from 'vitest';
import { parseUsage } from './usage.js';

const t0 = 1_795_000_000;
const mib = 2 ** 20;

describe('parseUsage', () => {
  it('reads the measurement time, the GPUs and each container in the pod\'s order', () => {
    expect(parseUsage(`u1 ${String(t0)} nvidia:4:87:66000:92136 0:1500:1200 - 2:30:64`)).toEqual({
      measuredAt: t0 * 1000,
      accelerators: [{ kind: 'nvidia', count: 4, utilization: 0.87, memoryUsedBytes: 66000 * mib, memoryTotalBytes: 92136 * mib }],
      containers: [{ run: 0, cpuMillicores: 1500, memoryBytes: 1200 * mib }, undefined, { run: 2, cpuMillicores: 30, memoryBytes: 64 * mib }],
    });
  });

  it('reads the containers summed after those the tag had room for', () => {
    const listed = Array.from({ length: 9 }, (_, i) => `${String(i)}:10:1`).join(' ');
    const u = parseUsage(`u1 ${String(t0)} ${listed} +31:4200:5100`);
    expect(u?.containers).toHaveLength(9);
    expect(u?.rest).toEqual({ containers: 31, cpuMillicores: 4200, memoryBytes: 5100 * mib });
  });

  it('reads a neuron entry, which a later agent may write', () => {
    expect(parseUsage(`u1 ${String(t0)} neuron:16:40:20000:1572864 0:100:64`)?.accelerators).toEqual([
      { kind: 'neuron', count: 16, utilization: 0.4, memoryUsedBytes: 20000 * mib, memoryTotalBytes: 1572864 * mib },
    ]);
  });

  it('leaves a container whose entry was cut off, or is missing at the end, unmeasured and keeps the others in place', () => {
    const u = parseUsage(`u1 ${String(t0)} 0:1500: 1:20:64`);
    expect(u?.containers).toEqual([undefined, { run: 1, cpuMillicores: 20, memoryBytes: 64 * mib }]);
    expect(parseUsage(`u1 ${String(t0)} 0:1500:1200 0:`)?.containers).toEqual([{ run: 0, cpuMillicores: 1500, memoryBytes: 1200 * mib }, undefined]);
  });

  it('leaves garbage in a container\'s place unmeasured, and skips an accelerator it cannot read', () => {
    const u = parseUsage(`u1 ${String(t0)} nvidia:0:50:1:1 nvidia:2:101:1:1 tpu:4:50:1:1 nvidia:x 0:-5:1 0:1e3:1 1:2:3:4 2:20:64`);
    expect(u).toEqual({ measuredAt: t0 * 1000, accelerators: [], containers: [undefined, undefined, undefined, { run: 2, cpuMillicores: 20, memoryBytes: 64 * mib }] });
  });

  it('has no rest for a rest entry it cannot read', () => {
    expect(parseUsage(`u1 ${String(t0)} 0:1:1 +x:1:1`)).not.toHaveProperty('rest');
    expect(parseUsage(`u1 ${String(t0)} 0:1:1 +0:1:1`)).not.toHaveProperty('rest');
  });

  it.each([
    ['no value', undefined],
    ['an empty value', ''],
    ['the pod-level usage older agents wrote', '1500:2147483648'],
    ['another version', `u2 ${String(t0)} 0:1500:1200`],
    ['no measurement time', 'u1 - 0:1500:1200'],
    ['a measurement time of 0', 'u1 0 0:1500:1200'],
    ['a measurement time that is no whole number', `u1 ${String(t0)}.5 0:1500:1200`],
    ['garbage', 'constructor toString __proto__'],
  ])('is undefined for %s', (_, value) => {
    expect(parseUsage(value)).toBeUndefined();
  });
});
