// `npm run bench:exec` part 2: exec and port-forward through Session Manager, without a cluster:
// ORCA's own client (SsmSessionManager, the exec helper's driver) against the test bed's Session
// Manager stand-in (a test double of the service and the SSM agent, with its one-second terminal
// delay turned off unless BENCH_AGENT_DELAY_MS says otherwise) on an "instance" that is this
// machine, where `docker exec NAME cmd…` runs cmd. Measures session set-up time, exec stdout and
// stdin throughput, port-forward requests a second, and the memory of 50 concurrent sessions.
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { GetDocumentCommandOutput } from '@aws-sdk/client-ssm';
import { EXEC_DOCUMENT_CONTENT, EXEC_DOCUMENT_NAME } from '../../src/agent-protocol/exec-helper.js';
import { runExecHelper } from '../../src/agent-protocol/exec-client.js';
import { SsmSessionManager } from '../../src/aws/ssm/index.js';
import type { ContainerIo, ExecOutcome } from '../../src/provider/provider.js';
import { SessionManagerStandIn } from '../../test/ssm-stand-in/stand-in.js';
import { repoRoot } from '../../test/e2e/testbed/paths.js';

const fakeDocker = `#!/bin/sh
# docker exec [-i] [-t] [--detach-keys X] NAME cmd… runs cmd… here (the benchmark's instance is this machine).
shift
while [ $# -gt 0 ]; do
  case $1 in --detach-keys|-e|-w|-u) shift 2 ;; -*) shift ;; *) break ;; esac
done
shift
exec "$@"
`;

export interface SessionBed {
  readonly manager: SsmSessionManager;
  readonly standIn: SessionManagerStandIn;
  exec(argv: readonly string[], io: ContainerIo): Promise<ExecOutcome>;
  stop(): Promise<void>;
}

/** The SDK calls the stand-in answers, made in process (StartSession, TerminateSession; the document is ORCA's). */
function ssmFor(standIn: () => SessionManagerStandIn): { send(command: { constructor: { name: string }; input: unknown }): Promise<unknown> } {
  return {
    async send(command) {
      const body = Buffer.from(JSON.stringify(command.input));
      const name = command.constructor.name;
      if (name === 'GetDocumentCommand') return { Content: EXEC_DOCUMENT_CONTENT, Name: EXEC_DOCUMENT_NAME, DocumentType: 'Session' };
      const answer = name === 'StartSessionCommand' ? await standIn().startSession(body) : await standIn().terminateSession(body);
      const parsed = JSON.parse(answer.body.toString()) as Record<string, unknown>;
      if (answer.status !== 200) throw Object.assign(new Error(String(parsed.message)), { name: String(parsed.__type) });
      return parsed;
    },
  };
}

export async function startSessionBed(agentDelayMs = Number(process.env.BENCH_AGENT_DELAY_MS ?? 0)): Promise<SessionBed> {
  const dir = mkdtempSync(join(tmpdir(), 'orca-bench-exec-'));
  writeFileSync(join(dir, 'docker'), fakeDocker, { mode: 0o755 });
  const env = { PATH: `${dir}:/usr/local/bin:/usr/bin:/bin`, HOME: dir };
  const documents = { send: (): Promise<GetDocumentCommandOutput> => Promise.resolve({ Content: EXEC_DOCUMENT_CONTENT, Name: EXEC_DOCUMENT_NAME, $metadata: {} }) };
  const standIn = await SessionManagerStandIn.start({ ssm: documents, instances: () => ({ env, dir }), outputDelayMs: agentDelayMs });
  const manager = new SsmSessionManager({ ssm: ssmFor(() => standIn) as never, log: { warn: () => undefined, debug: () => undefined }, allowPlainWebSocket: true });
  const helperSource = readFileSync(join(repoRoot, 'agent', 'orca-exec.py'), 'utf8');
  return {
    manager, standIn,
    async exec(argv, io) {
      const session = await manager.startCommand('i-bench', EXEC_DOCUMENT_NAME, {});
      try {
        return await runExecHelper({
          stream: session.stream, helperSource, io, signal: new AbortController().signal,
          spec: { mode: 'exec', container: 'orca-main-0', argv, stdin: io.stdin !== undefined, stdout: true, stderr: true, tty: false },
        });
      } finally {
        await session.terminate();
      }
    },
    async stop() { await standIn.stop(); },
  };
}

/** A Writable that counts (and optionally keeps) what it is given. */
export function sink(keep = false): Writable & { bytes: number; chunks: Buffer[] } {
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      w.bytes += chunk.length;
      if (keep) w.chunks.push(chunk);
      cb();
    },
  }) as Writable & { bytes: number; chunks: Buffer[] };
  w.bytes = 0;
  w.chunks = [];
  return w;
}
