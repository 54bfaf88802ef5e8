// The docker command lines the docker stand-in understands: `docker run`'s flags (only those the
// agent passes; any other is refused as docker refuses an unknown flag, so a typo in the agent
// fails here rather than on an instance), `docker exec` and `docker attach` as the exec helper runs
// them, the few flags of the other commands, and Go-template formats reduced to field paths
// (`{{.State.ExitCode}}`). Pure.

/** A command line docker would refuse before reaching the daemon (the CLI exits 125). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `docker run` flags that take a value, under one name per flag. */
const valued: ReadonlyMap<string, string> = new Map([
  ['--name', 'name'], ['--network', 'network'], ['--net', 'network'], ['--ipc', 'ipc'],
  ['--log-driver', 'log-driver'], ['--log-opt', 'log-opt'], ['--gpus', 'gpus'], ['--device', 'device'],
  ['-e', 'env'], ['--env', 'env'], ['-w', 'workdir'], ['--workdir', 'workdir'], ['-v', 'volume'], ['--volume', 'volume'],
  ['--entrypoint', 'entrypoint'], ['-u', 'user'], ['--user', 'user'], ['--cpus', 'cpus'], ['-m', 'memory'], ['--memory', 'memory'],
  ['--cap-add', 'cap-add'], ['--cap-drop', 'cap-drop'],
]);

const switches: ReadonlyMap<string, string> = new Map([
  ['-d', 'detach'], ['--detach', 'detach'], ['--read-only', 'read-only'], ['--privileged', 'privileged'], ['--rm', 'rm'],
  ['-i', 'interactive'], ['--interactive', 'interactive'], ['-t', 'tty'], ['--tty', 'tty'],
]);

/** The flags of one command: those taking a value and the switches, each under one name. */
interface FlagTable {
  readonly valued: ReadonlyMap<string, string>;
  readonly switches: ReadonlyMap<string, string>;
}

const execFlags: FlagTable = {
  valued: new Map([['-e', 'env'], ['--env', 'env'], ['-w', 'workdir'], ['--workdir', 'workdir'], ['-u', 'user'], ['--user', 'user'], ['--detach-keys', 'detach-keys']]),
  switches: new Map([['-i', 'interactive'], ['--interactive', 'interactive'], ['-t', 'tty'], ['--tty', 'tty'], ['--privileged', 'privileged']]),
};

const attachFlags: FlagTable = {
  valued: new Map([['--detach-keys', 'detach-keys']]),
  switches: new Map([['--no-stdin', 'no-stdin'], ['--sig-proxy', 'sig-proxy']]),
};

export interface RunCommand {
  /** Every flag's values, in order, by the flag's name (e.g. env → ['A=1', 'B=2']). */
  readonly flags: ReadonlyMap<string, readonly string[]>;
  readonly image: string;
  readonly args: readonly string[];
}

/** `docker exec [flags] NAME CMD…`. */
export interface ExecCommand {
  readonly flags: ReadonlyMap<string, readonly string[]>;
  readonly container: string;
  readonly argv: readonly string[];
}

/** `docker attach [flags] NAME`. */
export interface AttachCommand {
  readonly flags: ReadonlyMap<string, readonly string[]>;
  readonly container: string;
}

/** Splits `--flag=value` into its two halves. */
function splitInline(word: string): [string, string | undefined] {
  const eq = word.indexOf('=');
  return word.startsWith('--') && eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
}

/** `-it` as `-i -t` when every letter is a switch (docker's short flags combine). */
function expand(word: string, table: FlagTable): readonly string[] {
  if (!/^-[a-z]{2,}$/.test(word)) return [word];
  const letters = Array.from(word.slice(1), (l) => `-${l}`);
  return letters.every((l) => table.switches.has(l)) ? letters : [word];
}

/** Parses the flags in front of a command's operands; returns them and the operands. */
function parseFlags(words: readonly string[], table: FlagTable): { readonly flags: Map<string, string[]>; readonly rest: readonly string[] } {
  const flags = new Map<string, string[]>();
  const add = (name: string, value: string): void => { flags.set(name, [...(flags.get(name) ?? []), value]); };
  const list = [...words];
  let i = 0;
  for (; i < list.length; i++) {
    const word = list[i] ?? '';
    if (word === '--') { i++; break; }
    if (!word.startsWith('-') || word === '-') break;
    list.splice(i, 1, ...expand(word, table));
    const [flag, inline] = splitInline(list[i] ?? '');
    const name = table.valued.get(flag);
    const toggle = table.switches.get(flag);
    if (name !== undefined) {
      const value = inline ?? list[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: ${flag}`);
      add(name, value);
    } else if (toggle !== undefined) {
      add(toggle, inline ?? 'true');
    } else {
      throw new UsageError(`unknown flag: ${flag}`);
    }
  }
  return { flags, rest: list.slice(i) };
}

/** Parses the words after `docker run`. */
export function parseRun(words: readonly string[]): RunCommand {
  const { flags, rest } = parseFlags(words, { valued, switches });
  const [image, ...args] = rest;
  if (image === undefined) throw new UsageError('"docker run" requires at least 1 argument.');
  return { flags, image, args };
}

/** Parses the words after `docker exec`. */
export function parseExec(words: readonly string[]): ExecCommand {
  if (words.includes('-d') || words.includes('--detach')) throw new UsageError('the emulator\'s docker runs exec in the foreground only');
  const { flags, rest } = parseFlags(words, execFlags);
  const [container, ...argv] = rest;
  if (container === undefined || argv.length === 0) throw new UsageError('"docker exec" requires at least 2 arguments.');
  return { flags, container, argv };
}

/** Parses the words after `docker attach`. */
export function parseAttach(words: readonly string[]): AttachCommand {
  const { flags, rest } = parseFlags(words, attachFlags);
  const [container, ...more] = rest;
  if (container === undefined || more.length > 0) throw new UsageError('"docker attach" requires exactly 1 argument.');
  const proxy = flags.get('sig-proxy')?.at(-1);
  if (proxy !== undefined && proxy !== 'true' && proxy !== 'false') throw new UsageError(`invalid argument "${proxy}" for "--sig-proxy" flag`);
  return { flags, container };
}

interface Flagged { readonly flags: ReadonlyMap<string, readonly string[]> }

/** The last value of a flag (docker keeps the last of a repeated single-valued flag). */
export const last = (run: Flagged, name: string): string | undefined => run.flags.get(name)?.at(-1);

/** Every value of a flag. */
export const all = (run: Flagged, name: string): readonly string[] => run.flags.get(name) ?? [];

/** `-e K=V` words (of run or exec) as an environment; `-e K` (copied from the CLI's own environment) gives nothing here. */
export function environment(run: Flagged): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of all(run, 'env')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** `--log-opt k=v` words as a map. */
export function logOptions(run: RunCommand): ReadonlyMap<string, string> {
  return new Map(all(run, 'log-opt').map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid log opt '${kv}'`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
}

const byteUnits: Readonly<Record<string, number>> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** `--memory` as bytes (a number with an optional b, k, m or g, as docker takes it). */
export function memoryBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(value);
  if (m === null) throw new UsageError(`invalid argument "${value}" for "-m, --memory" flag`);
  return Math.floor(Number(m[1]) * (byteUnits[(m[2] ?? '').toLowerCase()] ?? 1));
}

export interface Options {
  readonly flags: ReadonlyMap<string, string>;
  readonly rest: readonly string[];
}

/**
 * Parses the flags of `inspect`, `stop`, `kill`, `stats` and `login`: `valuedFlags` take a value,
 * every other flag is a switch; the rest are names.
 */
export function parseOptions(words: readonly string[], valuedFlags: readonly string[]): Options {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const [flag, inline] = splitInline(words[i] ?? '');
    if (!flag.startsWith('-')) { rest.push(flag); continue; }
    if (!valuedFlags.includes(flag)) { flags.set(flag, inline ?? 'true'); continue; }
    const value = inline ?? words[++i];
    if (value === undefined) throw new UsageError(`flag needs an argument: ${flag}`);
    flags.set(flag, value);
  }
  return { flags, rest };
}

/** Fills `{{.A.B}}` fields of a Go template from `data`; any other template action is refused. */
export function render(template: string, data: unknown): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, action: string) => {
    if (!/^(\.\w+)+$/.test(action)) throw new UsageError(`template: the docker stand-in only fills field paths, not "${action}"`);
    let v: unknown = data;
    for (const key of action.slice(1).split('.')) {
      v = typeof v === 'object' && v !== null && key in v ? (v as Record<string, unknown>)[key] : undefined;
    }
    if (v === undefined) throw new UsageError(`template: can't evaluate field ${action}`);
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  });
}
