// The assignment's stdin/tty lines, and the ORCA agent's `docker run` words built from them: the
// agent script's own start_container runs in sh with docker and aws stubbed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerSpec, Pod } from '../domain/pod.js';
import type { ConfigSource } from '../ports/kube.js';
import { buildAssignment, terminalLines } from './assignment-builder.js';

const agent = readFileSync(new URL('../../agent/orca-agent.sh', import.meta.url), 'utf8');
const noConfig: ConfigSource = { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) };
const dir = mkdtempSync(join(tmpdir(), 'orca-assignment-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

type Spec = ContainerSpec & { readonly stdin?: boolean; readonly tty?: boolean };
const pod = (containers: Spec[], initContainers: Spec[] = []): Pod => ({
  metadata: { namespace: 'lab', name: 'shell', uid: 'uid-1' },
  spec: { containers, ...(initContainers.length > 0 ? { initContainers } : {}) },
});

/** The words start_container gives `docker run` for each container, from the agent script itself. */
function runWords(assignment: string, containers: readonly string[]): string[][] {
  const functions = agent.replace(/\nmain "\$@"\n$/, '\n');
  expect(functions).not.toBe(agent);
  writeFileSync(join(dir, 'assignment.sh'), assignment);
  const script = [
    `ORCA_HOME=${dir}/home`, 'REGION=eu-west-1', 'ID=i-0123456789abcdef0', 'ORCA_LOG_GROUP=/orca/lab', functions,
    'aws() { :; }',
    `docker() { if [ "$1" = run ]; then printf '%s\\037' "$@" >>${dir}/runs; printf '\\036' >>${dir}/runs; fi; }`,
    `. ${dir}/assignment.sh`,
    ...containers.map((c) => `start_container ${c}`),
  ].join('\n');
  rmSync(join(dir, 'runs'), { force: true });
  execFileSync('sh', ['-c', script]);
  return readFileSync(join(dir, 'runs'), 'utf8').split('\x1e').slice(0, -1).map((r) => r.split('\x1f').slice(0, -1));
}

describe('terminalLines', () => {
  it('marks the containers with stdin or tty, init containers too, and nothing else', () => {
    const p = pod([{ name: 'main-shell', image: 'img', stdin: true, tty: true }, { name: 'side', image: 'img', stdin: false }], [{ name: 'setup', image: 'img', tty: true }]);
    expect(terminalLines(p)).toEqual(["orca_tty_setup='true'", "orca_stdin_main_shell='true'", "orca_tty_main_shell='true'"]);
    expect(terminalLines(pod([{ name: 'main', image: 'img' }]))).toEqual([]);
  });
});

describe('buildAssignment and the agent', () => {
  it('runs a container with stdin: true and tty: true as docker run -d … -i -t, one with neither without them', async () => {
    const text = await buildAssignment(pod([{ name: 'main', image: 'img', command: ['sh'], stdin: true, tty: true }, { name: 'side', image: 'img', command: ['sleep', '9'] }, { name: 'in', image: 'img', command: ['cat'], stdin: true }]), noConfig);
    expect(text.endsWith("orca_stdin_main='true'\norca_tty_main='true'\norca_stdin_in='true'\n")).toBe(true);
    const [main, side, input] = runWords(text, ['main', 'side', 'in']);
    const agentFlags = (c: string): string[] => ['run', '-d', '--name', `orca-${c}-0`, '--network', 'host', '--ipc', 'host',
      '--log-driver', 'awslogs', '--log-opt', 'awslogs-region=eu-west-1', '--log-opt', 'awslogs-group=/orca/lab',
      '--log-opt', `awslogs-stream=lab/shell/uid-1/${c}/0`, '--log-opt', 'awslogs-create-group=true'];
    expect(main).toEqual([...agentFlags('main'), '-i', '-t', '--entrypoint', 'sh', 'img']);
    expect(side).toEqual([...agentFlags('side'), '--entrypoint', 'sleep', 'img', '9']);
    expect(input).toEqual([...agentFlags('in'), '-i', '--entrypoint', 'cat', 'img']);
  });

  it('adds nothing to the assignment of a pod without stdin or tty', async () => {
    const text = await buildAssignment(pod([{ name: 'main', image: 'img', command: ['true'] }]), noConfig);
    expect(text).not.toMatch(/orca_(stdin|tty)_/);
    expect(runWords(text, ['main'])[0]).not.toContain('-i');
  });
});
