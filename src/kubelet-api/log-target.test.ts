// Which run `kubectl logs` reads, and the kubelet's answers when there is none to read.
import { describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod } from '../domain/pod.js';
import { pod } from '../../test/fakes/builders.js';
import { logRun, runOver } from './log-target.js';

const at = '2026-11-23T12:00:00Z';
const withStatus = (c: Partial<ContainerStatus>): Pod => pod('train', { status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: false, restartCount: 0, ...c }] } });
const last = { terminated: { exitCode: 1, reason: 'Error', finishedAt: at } };

describe('the run kubectl logs reads', () => {
  it('reads the current run of a running or terminated container, and the one before with previous', () => {
    expect(logRun(withStatus({ restartCount: 2, state: { running: {} }, lastState: last }), 'train', 'main', false)).toEqual({ ok: true, value: { run: 2, running: true } });
    expect(logRun(withStatus({ restartCount: 2, state: { running: {} }, lastState: last }), 'train', 'main', true)).toEqual({ ok: true, value: { run: 1, running: false, finishedAt: Date.parse(at) } });
    expect(logRun(withStatus({ restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: at } } }), 'train', 'main', false))
      .toEqual({ ok: true, value: { run: 0, running: false, finishedAt: Date.parse(at) } });
  });

  it('reads the last run of a container waiting to restart (CrashLoopBackOff)', () => {
    expect(logRun(withStatus({ restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: last }), 'train', 'main', false))
      .toEqual({ ok: true, value: { run: 2, running: false, finishedAt: Date.parse(at) } });
  });

  it('answers as a kubelet when there is nothing to read', () => {
    const refusal = (p: Pod | undefined, container: string, previous: boolean) => { const r = logRun(p, 'train', container, previous); return r.ok ? undefined : r.error; };
    expect(refusal(undefined, 'main', false)).toEqual({ status: 404, message: 'pod "train" does not exist' });
    expect(refusal(withStatus({}), 'sidecar', false)).toEqual({ status: 404, message: 'container "sidecar" not found in pod "train"' });
    expect(refusal(pod('train'), 'main', false)).toEqual({ status: 400, message: 'container "main" in pod "train" is not available' });
    expect(refusal(withStatus({ state: { waiting: { reason: 'ContainerCreating' } } }), 'main', false)).toEqual({ status: 400, message: 'container "main" in pod "train" is waiting to start: ContainerCreating' });
    expect(refusal(withStatus({ state: { waiting: { reason: 'ErrImagePull' } } }), 'main', false)?.message).toBe('container "main" in pod "train" is waiting to start: image can\'t be pulled');
    expect(refusal(withStatus({ state: { waiting: { reason: 'ImagePullBackOff' } } }), 'main', false)?.message).toBe('container "main" in pod "train" is waiting to start: trying and failing to pull image');
    expect(refusal(withStatus({}), 'main', false)?.message).toBe('container "main" in pod "train" is waiting to start - no logs yet');
    expect(refusal(withStatus({ state: { running: {} } }), 'main', true)).toEqual({ status: 400, message: 'previous terminated container "main" in pod "train" not found' });
  });

  it('sees a run over once the container stopped or moved on, or the pod (this UID) is gone', () => {
    expect(runOver(withStatus({ restartCount: 1, state: { running: {} } }), 'uid-train', 'main', 1)).toEqual({ over: false });
    expect(runOver(withStatus({ restartCount: 2, state: { running: {} }, lastState: last }), 'uid-train', 'main', 1)).toEqual({ over: true, finishedAt: Date.parse(at) });
    expect(runOver(withStatus({ restartCount: 1, state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: at } } }), 'uid-train', 'main', 1)).toEqual({ over: true, finishedAt: Date.parse(at) });
    expect(runOver(undefined, 'uid-train', 'main', 1)).toEqual({ over: true });
    expect(runOver(withStatus({ state: { running: {} } }), 'uid-of-a-new-pod', 'main', 0)).toEqual({ over: true });
  });
});
