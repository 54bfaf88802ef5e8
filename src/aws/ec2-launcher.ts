// InstanceLauncher over EC2: RunInstances with IMDSv2 required, an encrypted gp3 root volume, the
// market and reservation options of the chosen offering, tags on instance and volume, and the
// ClientToken; CreateTags for the pod of a batched instance; DescribeInstances by tag at up to 1000
// instances per call.
import {
  CreateTagsCommand, paginateDescribeInstances, RunInstancesCommand, TerminateInstancesCommand,
  type EC2Client, type Instance as SdkInstance, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type { Instance, InstanceState, LaunchSpec } from '../domain/instance.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import { toLaunchError } from './ec2-errors.js';
import { or, withSignal } from './sdk-util.js';

const states: readonly InstanceState[] = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'];

const lifecycles: ReadonlyMap<string, Instance['lifecycle']> = new Map([['spot', 'spot'], ['capacity-block', 'capacity-block']]);

export function toInstance(i: SdkInstance): Instance {
  return {
    id: or(i.InstanceId, ''), type: or(i.InstanceType, ''), zone: or(i.Placement?.AvailabilityZone, ''),
    state: or(states.find((s) => s === i.State?.Name), 'pending'),
    lifecycle: or(lifecycles.get(or(i.InstanceLifecycle, '')), 'on-demand'),
    launchTime: or(i.LaunchTime?.toISOString(), ''),
    ...(i.PrivateIpAddress === undefined ? {} : { privateIp: i.PrivateIpAddress }),
    tags: Object.fromEntries(or(i.Tags, []).map((t) => [or(t.Key, ''), or(t.Value, '')])),
  };
}


function market(s: LaunchSpec): Pick<RunInstancesCommandInput, 'InstanceMarketOptions' | 'CapacityReservationSpecification'> {
  if (s.capacity === 'spot') {
    const SpotOptions = { SpotInstanceType: 'one-time' as const, InstanceInterruptionBehavior: 'terminate' as const, ...(s.maxSpotPrice === undefined ? {} : { MaxPrice: String(s.maxSpotPrice) }) };
    return { InstanceMarketOptions: { MarketType: 'spot', SpotOptions }, CapacityReservationSpecification: { CapacityReservationPreference: 'none' } };
  }
  if (s.capacityBlockId !== undefined) {
    return { InstanceMarketOptions: { MarketType: 'capacity-block' }, CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: s.capacityBlockId } } };
  }
  if (s.capacity === 'reserved' && s.capacityReservationId !== undefined) {
    return { CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: s.capacityReservationId } } };
  }
  return { CapacityReservationSpecification: { CapacityReservationPreference: s.capacityReservationPreference === 'none' ? 'none' : 'open' } };
}

export function runInstancesInput(s: LaunchSpec): RunInstancesCommandInput {
  const Tags = Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    ClientToken: s.clientToken, DryRun: s.dryRun,
    ImageId: s.imageId, InstanceType: s.instanceType as RunInstancesCommandInput['InstanceType'],
    MinCount: 1, MaxCount: s.count, SubnetId: s.subnetId,
    ...(s.securityGroupIds.length === 0 ? {} : { SecurityGroupIds: [...s.securityGroupIds] }),
    ...(s.instanceProfileArn === undefined ? {} : { IamInstanceProfile: { Arn: s.instanceProfileArn } }),
    // Containers on the instance are one hop further: IMDSv2 needs a hop limit of 2 to reach them.
    // Instance tags stay out of IMDS: EC2 refuses tag keys with '/' (orca.research/…) when they are in.
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'disabled' },
    BlockDeviceMappings: [{ DeviceName: s.rootDeviceName, Ebs: { VolumeSize: s.rootVolumeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
    UserData: Buffer.from(s.userData, 'utf8').toString('base64'),
    TagSpecifications: [{ ResourceType: 'instance', Tags }, { ResourceType: 'volume', Tags }],
    DisableApiTermination: s.terminationProtection,
    InstanceInitiatedShutdownBehavior: 'terminate',
    ...market(s),
  };
}

export function createEc2Launcher(ec2: EC2Client): InstanceLauncher {
  return {
    async launch(spec, signal) {
      try {
        const out = await ec2.send(new RunInstancesCommand(runInstancesInput(spec)), withSignal(signal));
        return (out.Instances ?? []).map(toInstance);
      } catch (e) {
        if (spec.dryRun && e instanceof Error && e.name === 'DryRunOperation') return [];
        throw toLaunchError(e);
      }
    },
    async tag(ids, tags, signal) {
      const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      await ec2.send(new CreateTagsCommand({ Resources: [...ids], Tags }), withSignal(signal));
    },
    async terminate(ids, signal) {
      for (let i = 0; i < ids.length; i += 1000) {
        try {
          await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids.slice(i, i + 1000) }), withSignal(signal));
        } catch (e) {
          if (!(e instanceof Error && e.name === 'InvalidInstanceID.NotFound')) throw e;
        }
      }
    },
    async listTagged(tagKey, tagValue, signal) {
      const out: Instance[] = [];
      const pages = paginateDescribeInstances({ client: ec2, pageSize: 1000 }, { Filters: [{ Name: `tag:${tagKey}`, Values: [tagValue] }] });
      for await (const page of pages) {
        signal?.throwIfAborted();
        for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toInstance(i));
      }
      return out;
    },
  };
}
