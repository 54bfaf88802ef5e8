// The doctor's table fits 100 columns, puts the fix under each ✘, colours only when asked; JSON too.
import { describe, expect, it } from 'vitest';
import type { CheckResult } from './check-result.js';
import { renderDoctorJson, renderDoctorTable, wrap, WIDTH } from './doctor-render.js';

const results: CheckResult[] = [
  { check: 'kubeconfig', status: 'pass', detail: 'https://127.0.0.1:6443' },
  { check: 'launch subnet-0123456789abcdef0 in us-east-1a', status: 'fail', detail: `UnauthorizedOperation: ${'x'.repeat(150)}`, fix: `grant ec2:RunInstances ${'and more '.repeat(20)}(docs/iam.md)` },
  { check: 'instance profile', status: 'skip', detail: 'no aws.instanceProfileArn' },
];

describe('the doctor table', () => {
  it('fits 100 columns, with ✔, ✘ and – and the fix wrapped under the ✘', () => {
    const text = renderDoctorTable(results, false);
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(WIDTH);
    expect(lines[0]).toMatch(/^ {2}✔ {2}kubeconfig +https:\/\/127\.0\.0\.1:6443$/);
    expect(lines[1]).toMatch(/^ {2}✘ {2}launch subnet-0123456789abcdef0… {2}UnauthorizedOperation: x+…$/);
    expect(lines[2]).toMatch(/^ {5}fix: grant ec2:RunInstances and more/);
    expect(lines.filter((l) => l.startsWith('     ')).join(' ')).toContain('(docs/iam.md)');
    expect(lines.find((l) => l.includes('instance profile'))).toMatch(/^ {2}– {2}instance profile/);
    expect(lines.at(-1)).toBe('1 passed, 1 failed, 1 skipped');
    expect(text).not.toContain('\u001b[');
  });

  it('colours the marks for a terminal', () => {
    const text = renderDoctorTable(results, true);
    expect(text).toContain('\u001b[32m✔\u001b[0m');
    expect(text).toContain('\u001b[31m✘\u001b[0m');
  });

  it('wraps at spaces and cuts a word longer than a line', () => {
    expect(wrap('aaa bbb ccc', '  ', 9)).toEqual(['  aaa bbb', '  ccc']);
    expect(wrap('abcdefghijkl', '', 5)).toEqual(['abcd…']);
  });

  it('prints JSON with ok false when a check failed', () => {
    expect(JSON.parse(renderDoctorJson(results))).toEqual({ ok: false, checks: results });
    expect((JSON.parse(renderDoctorJson([results[0] as CheckResult])) as { ok: boolean }).ok).toBe(true);
  });
});
