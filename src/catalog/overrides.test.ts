import { describe, expect, it } from 'vitest';
import type { InstanceTypeInfo } from '../domain/instance-type.js';
import { applyOverrides, catalogOverrides, describeOverride, type CatalogOverride } from './overrides.js';

// trn2.48xlarge as DescribeInstanceTypes describes it: 512 GiB per Trainium2 device.
const described: InstanceTypeInfo = {
  type: 'trn2.48xlarge', vcpus: 192, memoryMiB: 2_097_152, architectures: ['x86_64'], efaInterfaces: 16, networkPerformance: '16x 200 Gigabit',
  accelerator: { kind: 'neuron', model: 'Trainium2', count: 16, memoryMiB: 524_288, coresPerDevice: 8 },
};
const trn1: InstanceTypeInfo = { ...described, type: 'trn1.32xlarge', accelerator: { kind: 'neuron', model: 'Trainium', count: 16, memoryMiB: 32_768, coresPerDevice: 2 } };

describe('applyOverrides', () => {
  it('sets the documented 96 GiB per Trainium2 device over the API\'s 512 GiB, and nothing else', () => {
    const { types, report } = applyOverrides([trn1, described]);
    expect(types).toEqual([trn1, { ...described, accelerator: { ...described.accelerator, memoryMiB: 98_304 } }]);
    expect(described.accelerator?.memoryMiB).toBe(524_288);
    expect(report.map(describeOverride)).toEqual([expect.stringMatching(/^override trn2\.48xlarge accelerator\.memoryMiB: 524288 -> 98304 \(DescribeInstanceTypes reports/) as string]);
  });

  it('says when the API has caught up, and when an override finds no field to set', () => {
    const fixed = { ...described, accelerator: { kind: 'neuron' as const, model: 'Trainium2', count: 16, memoryMiB: 98_304, coresPerDevice: 8 } };
    const bare: InstanceTypeInfo = { type: 'trn2.48xlarge', vcpus: 192, memoryMiB: 2_097_152, architectures: ['x86_64'], efaInterfaces: 16, networkPerformance: '' };
    const lines = [fixed, bare].map((t) => applyOverrides([t]).report.map(describeOverride)[0]);
    expect(lines).toEqual([
      'override trn2.48xlarge accelerator.memoryMiB: DescribeInstanceTypes now reports 98304 itself; the override can go',
      'override trn2.48xlarge accelerator.memoryMiB: not applied (the record has no such field); review src/catalog/overrides.ts',
    ]);
    expect(applyOverrides([bare]).types).toEqual([bare]);
  });

  it('applies several overrides of one type in order', () => {
    const twice: CatalogOverride[] = [catalogOverrides[1], { ...catalogOverrides[1], value: 1 }].filter((o): o is CatalogOverride => o !== undefined);
    expect(applyOverrides([described], twice).types[0]?.accelerator?.memoryMiB).toBe(1);
  });

  it('documents every override: a source, a reason, and a figure that differs from the API\'s', () => {
    expect(catalogOverrides.map((o) => o.type)).toEqual(['trn2.3xlarge', 'trn2.48xlarge']);
    for (const o of catalogOverrides) {
      expect(o.source, o.type).toMatch(/https:\/\/awsdocs-neuron\.readthedocs-hosted\.com\//);
      expect(o.reason.length, o.type).toBeGreaterThan(40);
      expect(o.value, o.type).not.toBe(o.described);
    }
  });
});
