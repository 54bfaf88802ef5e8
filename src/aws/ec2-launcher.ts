// InstanceLauncher over EC2: RunInstances with IMDSv2 required, an encrypted gp3 root volume, the
// market and reservation options of the chosen offering, tags on instance and volume, and the
// ClientToken; CreateTags for the pod of a batched instance; DescribeInstances by tag at up to 1000
// instances per call.
import {
  CreateTagsCommand, DescribeInstancesCommand, ModifyInstanceAttributeCommand, RunInstancesCommand, TerminateInstancesCommand,
  type EC2Client, type Instance as SdkInstance, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { TerminateRefusedError } from '../domain/errors.js';
import type { Instance, InstanceState, LaunchSpec } from '../domain/instance.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import { toLaunchError } from './ec2-errors.js';
import { or, withSignal } from './sdk-util.js';

const states: readonly InstanceState[] = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'];

/** Codes with which EC2 refuses some instances of a TerminateInstances call. */
const refusedStates: ReadonlySet<string> = new Set(['IncorrectInstanceState', 'UnsupportedOperation', 'InvalidInstanceID.Malformed']);

/** The instance ids an EC2 error message names (i-…). */
const idsIn = (message: string): string[] => message.match(/\bi-[0-9a-f]{8,17}\b/g) ?? [];

const lifecycles: ReadonlyMap<string, Instance['lifecycle']> = new Map([['spot', 'spot'], ['capacity-block', 'capacity-block']]);

export function toInstance(i: SdkInstance): Instance {
  return {
    id: or(i.InstanceId, ''), type: or(i.InstanceType, ''), zone: or(i.Placement?.AvailabilityZone, ''),
    // A state ORCA does not know is never taken for a starting instance.
    state: or(states.find((s) => s === i.State?.Name), 'unknown'),
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

/**
 * One TerminateInstances call. EC2 fails the whole call when one id is unknown: the ids it names are
 * dropped and the rest terminated (an id it does not name is not dropped: the call is not repeated).
 * Instances EC2 refuses (termination protection, a state it will not terminate from) are reported
 * as TerminateRefusedError naming them.
 */
async function terminateSome(ec2: EC2Client, ids: readonly string[], signal: AbortSignal | undefined): Promise<void> {
  try {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [...ids] }), withSignal(signal));
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    if (e.name === 'OperationNotPermitted') throw new TerminateRefusedError('protected', idsIn(e.message), e.message, { cause: e });
    if (refusedStates.has(e.name)) throw new TerminateRefusedError('refused', idsIn(e.message), e.message, { cause: e });
    if (e.name !== 'InvalidInstanceID.NotFound') throw e;
    const gone = new Set(idsIn(e.message));
    const rest = ids.filter((id) => !gone.has(id));
    if (gone.size > 0 && rest.length > 0 && rest.length < ids.length) await terminateSome(ec2, rest, signal);
  }
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
      for (let i = 0; i < ids.length; i += 1000) await terminateSome(ec2, ids.slice(i, i + 1000), signal);
    },
    async unprotect(id, signal) {
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } }), withSignal(signal));
    },
    async listTagged(tagKey, tagValue, signal) {
      // Paged by hand: every page's call carries the abort signal (the SDK's paginators take none).
      const out: Instance[] = [];
      let token: string | undefined;
      do {
        const page = await ec2.send(new DescribeInstancesCommand({
          Filters: [{ Name: `tag:${tagKey}`, Values: [tagValue] }], MaxResults: 1000, ...(token === undefined ? {} : { NextToken: token }),
        }), withSignal(signal));
        for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toInstance(i));
        token = page.NextToken;
      } while (token !== undefined && token !== '');
      return out;
    },
  };
}
