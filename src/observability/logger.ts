// The root logger: JSON lines to stdout (or a given stream), built once in main.ts and passed down.
// Components take children: log.child({ component: 'pods' }). Secret-bearing paths are redacted.
// Errors under `err` carry their type, message and fields; their stack only at debug and trace, so a
// failure retried every few seconds is one short line per attempt.
import { pino, stdSerializers, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever a caller puts them. */
export const redactedPaths = [
  '*.env', '*.secretAccessKey', '*.sessionToken', '*.token', '*.password', '*.authorization', '*.userData',
  'req.headers.authorization',
] as const;

/** pino's error serializer without the stack. */
export function errWithoutStack(err: Error): Record<string, unknown> {
  const serialized: Record<string, unknown> = { ...stdSerializers.err(err) };
  delete serialized.stack;
  return serialized;
}

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const withStacks = level === 'debug' || level === 'trace';
  const opts = {
    level, base: { service: 'orca' }, redact: { paths: [...redactedPaths], censor: '[redacted]' },
    ...(withStacks ? {} : { serializers: { err: errWithoutStack } }),
  };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}
