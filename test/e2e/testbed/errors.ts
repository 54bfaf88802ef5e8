// The one error type of the test bed: it always names the component and, when there is one, its log.
import { existsSync, readFileSync } from 'node:fs';

export class TestbedError extends Error {
  constructor(
    readonly component: string,
    detail: string,
    readonly logFile?: string,
  ) {
    super(`test bed: ${component}: ${detail}${logFile === undefined ? '' : `\n  log file: ${logFile}${tailOf(logFile)}`}`);
    this.name = 'TestbedError';
  }
}

/** The last lines of a log file, indented, for error messages and failure dumps. */
export function tailOf(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8').trimEnd();
  if (text === '') return '\n  (log is empty)';
  const last = text.split('\n').slice(-lines);
  return `\n  last ${last.length} lines:\n${last.map((l) => `    ${l}`).join('\n')}`;
}
