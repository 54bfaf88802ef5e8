// The root logger: JSON lines to stdout (or a given stream), built once in main.ts and passed down.
// Components take children: log.child({ component: 'pods' }). Secret-bearing paths are redacted.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever a caller puts them. */
export const redactedPaths = [
  '*.env', '*.secretAccessKey', '*.sessionToken', '*.token', '*.password', '*.authorization', '*.userData',
  'req.headers.authorization',
] as const;

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const opts = { level, base: { service: 'orca' }, redact: { paths: [...redactedPaths], censor: '[redacted]' } };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}
