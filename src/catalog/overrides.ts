// Pure: corrections to what EC2's DescribeInstanceTypes reports, where AWS's own documentation gives a
// different figure and the API's is the one in error. `npm run catalog:refresh` applies them after
// DescribeInstanceTypes, so a refresh never writes a known error back. Each override says where the
// right figure is documented and why the API's is not taken; remove it once the API is right.
import type { InstanceTypeInfo } from '../domain/instance-type.js';

/** The fields an override may set (one setter each in `setters`). */
export type OverrideField = 'accelerator.memoryMiB';

export interface CatalogOverride {
  readonly type: string;
  readonly field: OverrideField;
  /** The documented figure. */
  readonly value: number;
  /** What DescribeInstanceTypes reported when the override was written. */
  readonly described: number;
  /** Where the documented figure is published. */
  readonly source: string;
  readonly reason: string;
}

const trainium2Memory = {
  field: 'accelerator.memoryMiB',
  value: 98_304,
  described: 524_288,
  source: 'AWS Neuron documentation: Trainium2 Architecture Guide (https://awsdocs-neuron.readthedocs-hosted.com/en/latest/nki/arch/trainium2_arch.html: '
    + '96 GiB of HBM per Trainium2 chip) and the Trn2 training best practices ("16 Trainium2 chips with 96 GiB of HBM each" on trn2.48xlarge)',
  reason: 'DescribeInstanceTypes reports NeuronInfo.NeuronDevices[0].MemoryInfo.SizeInMiB = 524288 (512 GiB) per Trainium2 device '
    + '(TotalNeuronDeviceMemoryInMiB 8388608 for trn2.48xlarge); each chip has 96 GiB (98304 MiB)',
} as const;

/** Every override in force. */
export const catalogOverrides: readonly CatalogOverride[] = [
  { type: 'trn2.3xlarge', ...trainium2Memory },
  { type: 'trn2.48xlarge', ...trainium2Memory },
];

type Setter = (t: InstanceTypeInfo, value: number) => InstanceTypeInfo | undefined;

/** How each field is set; undefined when the record has no such field (then the override does not apply). */
const setters: Readonly<Record<OverrideField, Setter>> = {
  'accelerator.memoryMiB': (t, memoryMiB) => (t.accelerator === undefined ? undefined : { ...t, accelerator: { ...t.accelerator, memoryMiB } }),
};

/** The current value of a field, for the report. */
const getters: Readonly<Record<OverrideField, (t: InstanceTypeInfo) => number | undefined>> = {
  'accelerator.memoryMiB': (t) => t.accelerator?.memoryMiB,
};

export interface AppliedOverride {
  readonly override: CatalogOverride;
  /** The value the record had before (the API's figure). */
  readonly was: number | undefined;
  /** False when the record lacks the field (the override could not apply: review it). */
  readonly applied: boolean;
}

/** The records with every override applied, and what each override found. Records are not mutated. */
export function applyOverrides(
  types: readonly InstanceTypeInfo[],
  overrides: readonly CatalogOverride[] = catalogOverrides,
): { readonly types: InstanceTypeInfo[]; readonly report: AppliedOverride[] } {
  const report: AppliedOverride[] = [];
  const out = types.map((t) => overrides.filter((o) => o.type === t.type).reduce((cur, o) => {
    const next = setters[o.field](cur, o.value);
    report.push({ override: o, was: getters[o.field](cur), applied: next !== undefined });
    return next ?? cur;
  }, t));
  return { types: out, report };
}

/** One line per override for the refresh's output: applied, no longer needed, or not applicable. */
export function describeOverride(r: AppliedOverride): string {
  const { type, field, value } = r.override;
  if (!r.applied) return `override ${type} ${field}: not applied (the record has no such field); review src/catalog/overrides.ts`;
  if (r.was === value) return `override ${type} ${field}: DescribeInstanceTypes now reports ${value} itself; the override can go`;
  return `override ${type} ${field}: ${String(r.was)} -> ${value} (${r.override.reason})`;
}
