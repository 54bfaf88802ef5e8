import { describe, expect, it } from 'vitest';
import type { Pod } from '../../domain/pod.js';
import { SessionLimits } from './limits.js';
import { execRequest, queryPorts, runningContainer, streamPath, streamPod } from './stream-request.js';

const pod = (state: 'running' | 'waiting' | undefined, uid = 'u1'): Pod => ({
  metadata: { namespace: 'ns', name: 'web', uid },
  spec: { containers: [{ name: 'main', image: 'busybox' }] },
  status: { phase: 'Running', containerStatuses: state === undefined ? [] : [{ name: 'main', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: state === 'running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } } }] },
} as unknown as Pod);

describe('streamPath', () => {
  it.each([
    ['/exec/ns/web/main', { kind: 'exec', namespace: 'ns', pod: 'web', container: 'main' }],
    ['/exec/ns/web/u1/main', { kind: 'exec', namespace: 'ns', pod: 'web', uid: 'u1', container: 'main' }],
    ['/attach/ns/web/main', { kind: 'attach', namespace: 'ns', pod: 'web', container: 'main' }],
    ['/portForward/ns/web', { kind: 'portForward', namespace: 'ns', pod: 'web' }],
    ['/portForward/ns/web/u1', { kind: 'portForward', namespace: 'ns', pod: 'web', uid: 'u1' }],
    ['/exec/ns/web', undefined],
    ['/exec/ns/web/a/b/c', undefined],
    ['/portForward/ns/web/u1/x', undefined],
    ['/containerLogs/ns/web/main', undefined],
    ['/exec/ns/%E0%A4%A/main', undefined],
    ['/exec/ns//main', undefined],
  ])('%s', (path, expected) => {
    expect(streamPath(path)).toEqual(expected);
  });
});

describe('execRequest', () => {
  const exec = { kind: 'exec' as const, namespace: 'ns', pod: 'web', container: 'main' };
  it('keeps argv exactly, in order, empty words included', () => {
    const q = new URLSearchParams([['command', 'printf'], ['command', '%s\\n'], ['command', 'a b'], ['command', ''], ['output', '1'], ['error', '1']]);
    expect(execRequest(exec, q)).toEqual({ ok: true, value: { container: 'main', command: ['printf', '%s\\n', 'a b', ''], stdin: false, stdout: true, stderr: true, tty: false } });
  });

  it('drops stderr with a TTY, as a kubelet does', () => {
    const q = new URLSearchParams('command=sh&input=1&output=1&error=1&tty=1');
    expect(execRequest(exec, q)).toMatchObject({ ok: true, value: { stdin: true, stdout: true, stderr: false, tty: true } });
  });

  it('refuses a request with no stream, and an exec without a command', () => {
    expect(execRequest(exec, new URLSearchParams('command=sh'))).toEqual({ ok: false, error: { status: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' } });
    expect(execRequest(exec, new URLSearchParams('output=1'))).toMatchObject({ ok: false, error: { status: 400 } });
    expect(execRequest({ ...exec, kind: 'attach' }, new URLSearchParams('output=1&command=ignored'))).toMatchObject({ ok: true, value: { command: [] } });
  });
});

describe('streamPod and runningContainer', () => {
  it('answers a missing pod, or one with another UID, with 404', () => {
    const path = { kind: 'exec' as const, namespace: 'ns', pod: 'web', uid: 'u2', container: 'main' };
    expect(streamPod(path, undefined)).toEqual({ ok: false, error: { status: 404, message: 'pod does not exist' } });
    expect(streamPod(path, pod('running'))).toEqual({ ok: false, error: { status: 404, message: 'pod does not exist' } });
    expect(streamPod({ ...path, uid: 'u1' }, pod('running')).ok).toBe(true);
  });

  it('answers a container that does not run with the kubelet\'s text', () => {
    expect(runningContainer(pod('waiting'), 'main')).toEqual({ ok: false, error: { status: 500, message: 'container not found ("main")' } });
    expect(runningContainer(pod(undefined), 'main').ok).toBe(false);
    expect(runningContainer(pod('running'), 'other').ok).toBe(false);
    expect(runningContainer(pod('running'), 'main')).toEqual({ ok: true, value: 'main' });
  });
});

describe('queryPorts', () => {
  it('reads repeated and comma-separated ports and refuses bad ones', () => {
    expect(queryPorts(new URLSearchParams('port=80,8080&port=9090'))).toEqual({ ok: true, value: [80, 8080, 9090] });
    expect(queryPorts(new URLSearchParams(''))).toEqual({ ok: true, value: [] });
    for (const bad of ['0', '65536', 'x', '-1', '1e3']) expect(queryPorts(new URLSearchParams({ port: bad })).ok).toBe(false);
  });
});

describe('SessionLimits', () => {
  it('caps sessions per pod and per node, and gives places back once', () => {
    const limits = new SessionLimits({ maxPerPod: 2, maxPerNode: 3 });
    const a = limits.acquire('p1', 'ns/a');
    const b = limits.acquire('p1', 'ns/a');
    expect(limits.acquire('p1', 'ns/a')).toEqual({ status: 429, message: 'too many exec, attach and port-forward sessions on pod ns/a (at most 2); try again later' });
    const c = limits.acquire('p2', 'ns/b');
    expect(limits.acquire('p3', 'ns/c')).toMatchObject({ status: 429, message: expect.stringContaining('on this node (at most 3)') as string });
    expect(limits.open).toBe(3);
    for (const x of [a, b, c]) if ('release' in x) { x.release(); x.release(); }
    expect(limits.open).toBe(0);
    expect('release' in limits.acquire('p1', 'ns/a')).toBe(true);
  });
});
