// The key reference of docs/configuration.md, from the JSON Schema of ConfigSchema (the same one the
// Helm chart's values.schema.json holds): every leaf key with its type, default and description.
import { z } from 'zod';
import { ConfigSchema } from '../../src/config/schema.js';
import { cell, type GeneratedPart } from './markers.js';

export interface JsonSchema {
  readonly type?: string;
  readonly title?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly items?: JsonSchema;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly required?: readonly string[];
  readonly anyOf?: readonly JsonSchema[];
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function range(s: JsonSchema): string {
  const lo = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum;
  const hi = s.maximum !== undefined && s.maximum < MAX_SAFE ? s.maximum : undefined;
  if (typeof lo === 'number' && hi !== undefined) return ` ${lo}–${hi}`;
  if (typeof lo === 'number' && lo > -MAX_SAFE) return ` ≥ ${lo}`;
  if (typeof lo === 'string') return ` ${lo}`;
  return hi === undefined ? '' : ` ≤ ${hi}`;
}

function containerType(s: JsonSchema): string | undefined {
  if (s.type === 'array') return `list of ${s.items === undefined ? 'values' : typeOf(s.items)}`;
  if (s.type !== 'object') return undefined;
  if (s.properties !== undefined) return `{${Object.keys(s.properties).join(', ')}}`;
  return typeof s.additionalProperties === 'object' ? `map of name → ${typeOf(s.additionalProperties)}` : 'map';
}

/** The kind of value a key takes, in words. */
export function typeOf(s: JsonSchema): string {
  if (s.title !== undefined) return s.title;
  if (s.enum !== undefined) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  const container = containerType(s);
  if (container !== undefined) return container;
  if (s.type === 'integer' || s.type === 'number') return `${s.type}${range(s)}`;
  if (s.format === 'uri') return 'URL';
  return s.type ?? (s.anyOf ?? []).map(typeOf).join(' or ');
}

const flow = (v: unknown): string => (Array.isArray(v) ? `[${v.map(flow).join(', ')}]` : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

function defaultOf(s: JsonSchema, required: boolean): string {
  if (s.default !== undefined) return `\`${flow(s.default)}\``;
  return required ? '**required**' : 'unset';
}

const isSection = (s: JsonSchema): boolean => s.type === 'object' && s.properties !== undefined;

const row = (path: string, type: string, dflt: string, doc: string): string => `| \`${path}\` | ${cell(type)} | ${cell(dflt)} | ${cell(doc)} |`;

/**
 * One row per leaf key (a key whose value is not a section of further keys), in schema order; a
 * section with a description of its own (an optional one) gets a row too, before its keys.
 */
export function keyRows(s: JsonSchema, prefix = ''): string[] {
  return Object.entries(s.properties ?? {}).flatMap(([k, v]) => {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (!isSection(v)) return [row(path, typeOf(v), defaultOf(v, s.required?.includes(k) === true), v.description ?? '')];
    const own = v.description === undefined ? [] : [row(path, 'section', defaultOf(v, false), v.description)];
    return [...own, ...keyRows(v, path)];
  });
}

export function configSchemaJson(): JsonSchema {
  return z.toJSONSchema(ConfigSchema, { io: 'input' }) as JsonSchema;
}

export function configReference(): GeneratedPart {
  const rows = keyRows(configSchemaJson());
  return { file: 'docs/configuration.md', name: 'config-keys', body: ['| key | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n') };
}
