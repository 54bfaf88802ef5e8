// `orca doctor`'s output: a ✔/✘ table that fits 100 columns, the fix under each ✘, a summary line;
// colours only for a terminal. Or JSON for scripts.
import type { CheckResult, CheckStatus } from './check-result.js';

export const WIDTH = 100;

const MARK: Record<CheckStatus, string> = { pass: '✔', fail: '✘', skip: '–' };
const COLOUR: Record<CheckStatus, string> = { pass: '\u001b[32m', fail: '\u001b[31m', skip: '\u001b[2m' };
const RESET = '\u001b[0m';

/** `text` cut to `width` characters, with … when it was longer. */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** `text` in lines of at most `width` characters, each after `indent`, broken at spaces where it can be. */
export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const room = width - indent.length;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length <= room) line = next;
    else {
      if (line !== '') lines.push(line);
      line = word.length > room ? fit(word, room) : word;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}${l}`);
}

export function renderDoctorTable(results: readonly CheckResult[], colour: boolean): string {
  const checkWidth = Math.min(32, Math.max(5, ...results.map((r) => r.check.length)));
  const detailWidth = WIDTH - 2 - 1 - 2 - checkWidth - 2;
  const paint = (s: CheckStatus, text: string): string => (colour ? `${COLOUR[s]}${text}${RESET}` : text);
  const lines = results.flatMap((r) => [
    `  ${paint(r.status, MARK[r.status])}  ${fit(r.check, checkWidth).padEnd(checkWidth)}  ${fit(r.detail, detailWidth)}`.trimEnd(),
    ...(r.fix === undefined ? [] : wrap(`fix: ${r.fix}`, ' '.repeat(5))),
  ]);
  const count = (s: CheckStatus): number => results.filter((r) => r.status === s).length;
  lines.push('', `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}

export function renderDoctorJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: results.every((r) => r.status !== 'fail'), checks: results }, null, 2)}\n`;
}
