// The EC2 provider's settings from ORCA's configuration, in one place: the provider ORCA runs
// (app.ts) and `orca validate` (cli-validate.ts), which must plan exactly as the provider would.
import type { Config } from './config/schema.js';
import type { Ec2Settings } from './ec2/settings.js';

/** What the configuration does not say: the cluster id and node name in force, and the boot script. */
export interface SettingsContext {
  readonly clusterId: string;
  readonly nodeName: string;
  readonly userData: string;
}

export function ec2SettingsOf(config: Config, c: SettingsContext): Ec2Settings {
  const { aws, instances: i, budgets: b } = config;
  return {
    clusterId: c.clusterId, nodeName: c.nodeName, subnets: aws.subnets.map((s) => ({ zone: s.zone, subnetId: s.subnetID })),
    securityGroupIds: aws.securityGroupIDs, ...(aws.instanceProfileArn === undefined ? {} : { instanceProfileArn: aws.instanceProfileArn }),
    images: { nvidia: i.images.nvidia, neuron: i.images.neuron, cpu: i.images.cpu },
    selectionMode: i.selectionMode, defaultCapacityOrder: i.defaultLaunchType, defaultOnInterruption: i.defaultOnInterruption,
    allowedTypes: i.allowedInstanceTypes, templates: i.templates, rootVolumeGiB: i.rootVolumeGiB,
    userData: c.userData, dryRun: aws.dryRun, pollMs: i.pollSeconds * 1000, tags: aws.tags,
    batchWindowMs: i.batchWindowSeconds * 1000, batchMax: i.batchMaxInstances, unassignedGraceMs: i.unassignedGraceSeconds * 1000,
    reservedUsdPerHour: b.reservedUSDPerHour,
    idle: { idleBelow: b.idleBelowPercent / 100, warnAfterMs: b.idleWarnAfterMinutes * 60_000 },
  };
}
