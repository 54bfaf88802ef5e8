// The ORCA configuration the demo runs with: the EC2 provider on the bed's moto (through the fault
// proxy, which answers Session Manager for `kubectl exec`), moto's default subnets, Amazon Linux 2023
// (an SSM public parameter moto knows) as every image, a one-second poll, and the kubelet API with the
// serving certificate the bed's apiserver trusts, so `kubectl logs` and `kubectl exec` work.
import type { BedInfo } from './state.js';

export const demoNode = 'orca-demo';
export const demoClusterId = 'orca-demo';
export const demoNamespace = 'demo';
const al2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

export interface Subnet { readonly id: string; readonly zone: string }

export interface ConfigInputs {
  readonly bed: BedInfo;
  /** The AWS endpoint ORCA calls (the fault proxy in front of moto). */
  readonly endpoint: string;
  readonly subnets: readonly Subnet[];
  readonly kubeletPort: number;
  readonly opsPort: number;
}

export function demoConfig(i: ConfigInputs): Record<string, unknown> {
  return {
    aws: {
      region: i.bed.aws.region, endpoint: i.endpoint, clusterId: demoClusterId,
      subnets: i.subnets.map((s) => ({ zone: s.zone, subnetID: s.id })),
    },
    node: { name: demoNode, internalIP: '127.0.0.1', kubeletPort: i.kubeletPort, capacity: { 'nvidia.com/gpu': 8 } },
    instances: { images: { nvidia: al2023, cpu: al2023 }, pollSeconds: 1 },
    kubeletApi: {
      host: '127.0.0.1', tlsCertFile: i.bed.pki.orcaServingCert, tlsKeyFile: i.bed.pki.orcaServingKey, clientCAFile: i.bed.pki.caCert,
      logs: { followPollSeconds: 1 },
    },
    // Namespaces without a BurstBudget wait; the demo namespace has one. Status every 2 s shows the cost soon.
    budgets: { withoutBudget: 'Refuse', statusIntervalSeconds: 2 },
    logging: { level: 'info' },
    ops: { host: '127.0.0.1', port: i.opsPort },
  };
}
