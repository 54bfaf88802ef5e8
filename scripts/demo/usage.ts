// What `npm run demo` leaves behind for a person: the env file to source (the bed's kubeconfig, moto's
// AWS settings, the bed's kubectl first on PATH) and the words on how to use and stop the demo.
import { writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { demoNamespace } from './orca-config.js';
import type { BedInfo, DemoPaths } from './state.js';

const shq = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

export function envFileText(bed: BedInfo): string {
  return [
    `export KUBECONFIG=${shq(bed.kubeconfig)}`,
    `export AWS_ENDPOINT_URL=${shq(bed.aws.endpoint)}`,
    `export AWS_REGION=${shq(bed.aws.region)}`,
    `export AWS_ACCESS_KEY_ID=${shq(bed.aws.accessKeyId)}`,
    `export AWS_SECRET_ACCESS_KEY=${shq(bed.aws.secretAccessKey)}`,
    `export PATH=${shq(dirname(bed.kubectl))}:"$PATH"`,
    '',
  ].join('\n');
}

export function writeEnvFile(paths: DemoPaths, bed: BedInfo): void {
  writeFileSync(paths.env, envFileText(bed));
}

/** `file` relative to the working directory when it lies below it. */
function shown(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') || isAbsolute(r) ? file : r;
}

const shellPod = [
  `kubectl run shell -n ${demoNamespace} --image=public.ecr.aws/docker/library/busybox:1.37`,
  '--annotations=orca.research/instance-type=g6.xlarge',
  `--overrides='{"spec":{"tolerations":[{"key":"virtual-kubelet.io/provider","operator":"Exists"}]}}'`,
  '--command -- sleep 3600',
].join(' \\\n      ');

export function usage(paths: DemoPaths, seconds: number): string {
  const ns = demoNamespace;
  return `
The demo is up (${seconds.toFixed(0)} s) and keeps running: a Kubernetes control plane, moto for AWS,
the instance emulator, and ORCA as node orca-demo. Use it from a shell:

  source ${shown(paths.env)}
  kubectl get pods -n ${ns} -o wide
  kubectl logs -n ${ns} job/quickstart
  kubectl get burstbudgets -n ${ns}
  node dist/main.js share

  # kubectl exec needs a running pod: start one that stays up, then exec into it
  ${shellPod}
  kubectl exec -n ${ns} shell -- uname -a

Logs: ${shown(paths.logs)}/ (orca.log, supervisor.log, kube-apiserver.log, …)
Stop it: npm run demo:down
`;
}
