import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { allocateDevices, renderAssignment, shq, volumeProblems, type Assignment, type ContainerPlan } from './assignment.js';
import type { Pod } from './pod.js';

const tricky = ['plain', "it's", '$(rm -rf /)', '`id`', 'a\nb\n', '"double"', '\\back\\', 'ünï€ødé', '', "'''", '${HOME}', '*', '-e X'];

/** Runs the assignment in a real sh and prints every word the container's docker run would get. */
function wordsOf(text: string, container: string, volumes = '/var/lib/orca/v'): string[] {
  const script = `${text}\nORCA_VOLUMES=${volumes}\norca_run_${container} printf '%s\\0'`;
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

const pod = (over: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { namespace: 'lab', name: 'train', uid: 'uid-1' },
  spec: { containers: [{ name: 'main', image: 'nvcr.io/nvidia/pytorch:25.01-py3', command: ['python', 'train.py'], args: ['--epochs', '3'] }], ...over },
});
const plan = (p: Pod, env: ContainerPlan['env'] = []): ContainerPlan => ({ spec: p.spec.containers[0] ?? { name: 'x' }, env, devices: { gpus: [], neuron: [], efa: 0 } });
const assignment = (p: Pod, app: ContainerPlan[]): Assignment => ({ pod: p, init: [], app, emptyDirs: [], files: [], registryAuth: [] });

describe('shq', () => {
  it.each(tricky)('round-trips %j through sh unchanged', (s) => {
    expect(execFileSync('sh', ['-c', `printf '%s' ${shq(s)}`], { encoding: 'utf8' })).toBe(s);
  });

  it('refuses a NUL character', () => {
    expect(() => shq('a\0b')).toThrow('NUL');
  });
});

describe('renderAssignment', () => {
  it('gives docker the pod\'s command as entrypoint + args, and env values exactly as written', () => {
    const p = pod();
    const env = tricky.map((v, i) => ({ name: `V${String(i)}`, value: v }));
    const words = wordsOf(renderAssignment(assignment(p, [plan(p, env)])), 'main');
    expect(words).toEqual([...env.flatMap((e) => ['-e', `${e.name}=${e.value}`]), '--entrypoint', 'python', 'nvcr.io/nvidia/pytorch:25.01-py3', 'train.py', '--epochs', '3']);
  });

  it('keeps every pod field inside its quotes: reading the assignment runs nothing', () => {
    const p: Pod = { ...pod(), metadata: { namespace: "x'; touch /tmp/orca-pwned; '", name: '$(touch /tmp/orca-pwned)', uid: '`touch /tmp/orca-pwned`' } };
    const text = renderAssignment(assignment(p, [plan(p)]));
    const out = execFileSync('sh', ['-c', `${text}\nprintf '%s|%s|%s' "$ORCA_POD_NAMESPACE" "$ORCA_POD_NAME" "$ORCA_POD_UID"`], { encoding: 'utf8' });
    expect(out).toBe(`${p.metadata.namespace}|${p.metadata.name}|${p.metadata.uid}`);
  });

  it('mounts volumes under the agent\'s volume directory, with subPath and read-only', () => {
    const p = pod({
      volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'train-config' } }, { name: 'kube-api-access-x1', projected: { sources: [] } }],
      containers: [{ name: 'main', image: 'img', volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/train', readOnly: true, subPath: 'a b' }, { name: 'kube-api-access-x1', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }],
    });
    expect(wordsOf(renderAssignment(assignment(p, [plan(p)])), 'main')).toEqual(['-v', '/var/lib/orca/v/data:/data', '-v', '/var/lib/orca/v/cfg/a b:/etc/train:ro', 'img']);
  });

  it('passes limits and the basic security context', () => {
    const p = pod({ containers: [{ name: 'main', image: 'img', resources: { limits: { cpu: '1500m', memory: '2Gi' } }, securityContext: { runAsUser: 1000, runAsGroup: 100, readOnlyRootFilesystem: true, capabilities: { add: ['IPC_LOCK'], drop: ['ALL'] } } }] });
    expect(wordsOf(renderAssignment(assignment(p, [plan(p)])), 'main')).toEqual(['--user', '1000:100', '--read-only', '--cap-add', 'IPC_LOCK', '--cap-drop', 'ALL', '--cpus', '1.5', '--memory', '2147483648', 'img']);
  });

  it.each([
    ['2', '4Gi', '2', '4294967296'], ['250m', '1536Mi', '0.25', '1610612736'], ['9m', '1k', '0.009', '1000'],
    ['1', '129e6', '1', '129000000'], ['1', '500M', '1', '500000000'],
  ])('gives docker plain numbers for cpu %s and memory %s', (cpu, memory, cpus, bytes) => {
    const p = pod({ containers: [{ name: 'main', image: 'img', resources: { limits: { cpu, memory } } }] });
    expect(wordsOf(renderAssignment(assignment(p, [plan(p)])), 'main')).toEqual(['--cpus', cpus, '--memory', bytes, 'img']);
  });

  it('sets the pod variables, container lists and device lists the agent reads', () => {
    const p = pod({ restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 45, initContainers: [{ name: 'fetch-data', image: 'busybox' }] });
    const a: Assignment = {
      ...assignment(p, [{ ...plan(p), devices: { gpus: [0, 1], neuron: [], efa: 2 } }]),
      init: [{ spec: { name: 'fetch-data', image: 'busybox' }, env: [], devices: { gpus: [], neuron: [], efa: 0 } }],
      files: [{ volume: 'cfg', path: 'train.yaml', mode: 0o644, base64: 'ZXBvY2hzOiAzCg==' }],
      emptyDirs: ['scratch'], registryAuth: [{ registry: 'ghcr.io', username: 'bot', password: "p'w" }],
    };
    const script = `${renderAssignment(a)}
orca_file() { printf 'file %s %s %s %s\\n' "$@"; }
orca_login() { printf 'login %s %s %s\\n' "$@"; }
printf '%s\\n' "$ORCA_RESTART_POLICY" "$ORCA_GRACE_SECONDS" "$ORCA_INIT_CONTAINERS" "$ORCA_CONTAINERS" "$ORCA_EMPTY_DIRS" "$orca_gpus_main" "$orca_efa_main" "$orca_image_fetch_data"
orca_volume_files
orca_registry_logins`;
    expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' }).split('\n')).toEqual([
      'OnFailure', '45', 'fetch-data', 'main', 'scratch', '0,1', '2', 'busybox', 'file cfg train.yaml 644 ZXBvY2hzOiAzCg==', "login ghcr.io bot p'w", '',
    ]);
  });
});

describe('volumeProblems', () => {
  it('refuses PVC and hostPath volumes by name and kind, and accepts the kinds an instance provides', () => {
    const p = pod({ volumes: [
      { name: 'ckpt', persistentVolumeClaim: { claimName: 'ckpt' } }, { name: 'host', hostPath: { path: '/data' } },
      { name: 'a', emptyDir: {} }, { name: 'b', secret: { secretName: 's' } }, { name: 'c', downwardAPI: { items: [] } }, { name: 'kube-api-access-abcde', projected: {} },
    ] });
    expect(volumeProblems(p)).toEqual([
      'volume ckpt: persistentVolumeClaim volumes are not supported on burst instances (use emptyDir, configMap, secret or downwardAPI)',
      'volume host: hostPath volumes are not supported on burst instances (use emptyDir, configMap, secret or downwardAPI)',
    ]);
  });
});

describe('allocateDevices', () => {
  it('gives app containers disjoint GPU and Neuron ranges, and init containers the first devices', () => {
    const p = pod({
      initContainers: [{ name: 'warm', resources: { limits: { 'nvidia.com/gpu': '2' } } }],
      containers: [
        { name: 'a', resources: { limits: { 'nvidia.com/gpu': '4', 'vpc.amazonaws.com/efa': '4' } } },
        { name: 'b', resources: { limits: { 'nvidia.com/gpu': '4', 'aws.amazon.com/neuron': '2' } } },
        { name: 'c' },
      ],
    });
    expect(allocateDevices(p)).toEqual({
      init: [{ gpus: [0, 1], neuron: [], efa: 0 }],
      app: [{ gpus: [0, 1, 2, 3], neuron: [], efa: 4 }, { gpus: [4, 5, 6, 7], neuron: [0, 1], efa: 0 }, { gpus: [], neuron: [], efa: 0 }],
    });
  });
});
