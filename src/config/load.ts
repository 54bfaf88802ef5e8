// Parses the configuration once, at the edge: YAML text plus command-line overrides → a validated,
// deep-frozen Config, or every problem at once.
import { parseDocument } from 'yaml';
import { ConfigError } from '../domain/errors.js';
import { err, ok, type Result } from '../domain/result.js';
import type { z } from 'zod';
import { parseBudgetSpec } from '../policy/budget-spec.js';
import { ConfigSchema, type Config } from './schema.js';

/** Values given on the command line; they win over the file. */
export interface ConfigOverrides {
  readonly nodeName?: string | undefined;
  readonly logLevel?: string | undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function applyOverrides(raw: unknown, o: ConfigOverrides): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const r = raw as Record<string, unknown>;
  const section = (k: string): Record<string, unknown> => {
    const s = r[k];
    return typeof s === 'object' && s !== null && !Array.isArray(s) ? (s as Record<string, unknown>) : {};
  };
  return {
    ...r,
    ...(o.nodeName === undefined ? {} : { node: { ...section('node'), name: o.nodeName } }),
    ...(o.logLevel === undefined ? {} : { logging: { ...section('logging'), level: o.logLevel } }),
  };
}

export function parseConfig(text: string, overrides: ConfigOverrides = {}): Result<Config, ConfigError> {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return err(new ConfigError(doc.errors.map((e) => `YAML: ${(e.message.split('\n')[0] ?? e.message).replace(/:$/, '')}`)));
  }
  const parsed = ConfigSchema.safeParse(applyOverrides(doc.toJS() ?? {}, overrides));
  if (!parsed.success) {
    return err(new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)));
  }
  const budgets = budgetProblems(parsed.data.budgets);
  if (budgets.length > 0) return err(new ConfigError(budgets));
  return ok(deepFreeze(parsed.data));
}

/** What the schema cannot check of the config's budgets (a time zone that does not exist), as a BurstBudget's spec is checked. */
function budgetProblems(b: z.infer<typeof ConfigSchema>['budgets']): string[] {
  const named = [['default', b.default], ['clusterLimit', b.clusterLimit]] as const;
  return named.flatMap(([key, spec]) => {
    if (spec === undefined) return [];
    const r = parseBudgetSpec('config', key, spec);
    return r.ok ? [] : r.error.map((e) => `budgets.${key}.${e.replace(/^spec\./, '')}`);
  });
}
