// The argument lists of each real component, in one place. Flags follow what kubeadm and envtest
// use, trimmed to one loopback host; see docs/testbed.md for why each non-default flag is set.
import { join } from 'node:path';
import type { Pki } from './pki.js';

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'moto';

export interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly moto: number;
}

export function etcdArgs(dir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=testbed', `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=testbed=${peer}`, '--unsafe-no-fsync', '--log-level=warn',
  ];
}

export function apiserverArgs(dir: string, ports: Ports, pki: Pki): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${ports.apiserver}`,
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.apiserverCert}`, `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=https://127.0.0.1:${ports.apiserver}`,
    `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    // How the apiserver reaches a kubelet (ORCA's kubelet API) for logs/exec/attach/port-forward.
    `--kubelet-client-certificate=${pki.kubeletClientCert}`, `--kubelet-client-key=${pki.kubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    '--kubelet-preferred-address-types=InternalIP',
    // The front-proxy pair, as kubeadm sets it: controller-manager and scheduler read it for delegated auth.
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`, '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`, `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    // The `kubernetes` Service cannot point at a loopback address; nothing in the bed needs it.
    '--endpoint-reconciler-type=none',
    // Aggregated APIs (metrics.k8s.io) are reached at their endpoints' addresses: the bed has no
    // Service network (test/e2e/kubectl-top.e2e.test.ts gives metrics-server one in a namespace).
    '--enable-aggregator-routing=true',
    '--profiling=false', '--v=1',
  ];
}

export interface ControllerParams {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly ports: Ports;
  readonly pki: Pki;
  /** kube-controller-manager --node-monitor-grace-period, in seconds. */
  readonly nodeMonitorGracePeriodSeconds: number;
}

const clientOf = (kubeconfig: string): string[] => [
  `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
];

export function controllerManagerArgs(p: ControllerParams): string[] {
  const { dir, kubeconfig, ports, pki } = p;
  return [
    ...clientOf(kubeconfig), '--bind-address=127.0.0.1', `--secure-port=${ports.controllerManager}`,
    `--flex-volume-plugin-dir=${join(dir, 'flexvolume')}`,
    `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
    '--leader-elect=false', '--node-monitor-period=2s',
    `--node-monitor-grace-period=${p.nodeMonitorGracePeriodSeconds}s`,
    '--profiling=false', '--v=1',
  ];
}

export function schedulerArgs(kubeconfig: string, ports: Ports): string[] {
  return [
    ...clientOf(kubeconfig), '--bind-address=127.0.0.1', `--secure-port=${ports.scheduler}`,
    '--leader-elect=false', '--profiling=false', '--v=1',
  ];
}

export function motoArgs(ports: Ports): string[] {
  return ['-H', '127.0.0.1', '-p', String(ports.moto)];
}
