// Errors in log lines: type, message and fields, and the stack only at debug and trace.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(level: 'info' | 'debug'): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  const log = createLogger(level, sink);
  return { log, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

class ThrottledError extends Error {
  readonly code = 'Throttling';
  constructor() {
    super('Rate exceeded');
    this.name = 'ThrottlingException';
  }
}

describe('the logger', () => {
  it('logs an error without its stack at info, with its type, message and fields', async () => {
    const { log, lines } = capture('info');
    log.warn({ err: new ThrottledError(), attempt: 3 }, 'poll failed; retrying');
    log.flush();
    await new Promise((r) => setImmediate(r));
    const [line] = lines();
    expect(line).toMatchObject({ msg: 'poll failed; retrying', attempt: 3, err: { type: 'ThrottledError', message: 'Rate exceeded', code: 'Throttling' } });
    expect(JSON.stringify(line)).not.toContain('stack');
    expect(JSON.stringify(line)).not.toContain('logger.test.ts');
  });

  it('keeps the stack at debug', async () => {
    const { log, lines } = capture('debug');
    log.warn({ err: new ThrottledError() }, 'poll failed; retrying');
    log.flush();
    await new Promise((r) => setImmediate(r));
    expect(String((lines()[0]?.err as { stack?: string }).stack)).toContain('logger.test.ts');
  });
});
