// CatalogSource over EC2 DescribeInstanceTypes: SDK shapes become ORCA's InstanceTypeInfo here and
// go no further. Accelerator facts come from GpuInfo/NeuronInfo, never from the type's name.
import { paginateDescribeInstanceTypes, type EC2Client, type InstanceTypeInfo as SdkType } from '@aws-sdk/client-ec2';
import type { Accelerator, InstanceTypeInfo } from '../domain/instance-type.js';
import type { CatalogSource } from '../ports/catalog.js';
import { or } from './sdk-util.js';

function nvidia(t: SdkType): Accelerator | undefined {
  const gpu = t.GpuInfo?.Gpus?.[0];
  if (gpu?.Manufacturer !== 'NVIDIA') return undefined;
  const { Name = 'unknown', Count = 0, MemoryInfo = {} } = gpu;
  return { kind: 'nvidia', model: Name, count: Count, memoryMiB: MemoryInfo.SizeInMiB ?? 0 };
}

function neuron(t: SdkType): Accelerator | undefined {
  const dev = t.NeuronInfo?.NeuronDevices?.[0];
  if (dev === undefined) return undefined;
  const { Name = 'unknown', Count = 0, MemoryInfo = {}, CoreInfo = {} } = dev;
  return { kind: 'neuron', model: Name, count: Count, memoryMiB: MemoryInfo.SizeInMiB ?? 0, coresPerDevice: CoreInfo.Count ?? 0 };
}

const isArch = (a: string): a is 'x86_64' | 'arm64' => a === 'x86_64' || a === 'arm64';

export function toInstanceTypeInfo(t: SdkType): InstanceTypeInfo {
  const acc = nvidia(t) ?? neuron(t);
  const net = or(t.NetworkInfo, {});
  return {
    type: or(t.InstanceType, ''),
    vcpus: or(t.VCpuInfo?.DefaultVCpus, 0),
    memoryMiB: or(t.MemoryInfo?.SizeInMiB, 0),
    architectures: or(t.ProcessorInfo?.SupportedArchitectures, []).filter(isArch),
    ...(acc === undefined ? {} : { accelerator: acc }),
    efaInterfaces: or(net.EfaInfo?.MaximumEfaInterfaces, 0),
    networkPerformance: or(net.NetworkPerformance, ''),
  };
}

export function createCatalogSource(ec2: EC2Client): CatalogSource {
  return {
    async instanceTypes(families, signal) {
      const out: InstanceTypeInfo[] = [];
      const pages = paginateDescribeInstanceTypes(
        { client: ec2, pageSize: 100 },
        { Filters: [{ Name: 'instance-type', Values: families.map((f) => `${f}.*`) }] },
      );
      for await (const page of pages) {
        signal?.throwIfAborted();
        for (const t of page.InstanceTypes ?? []) out.push(toInstanceTypeInfo(t));
      }
      return out.sort((a, b) => a.type.localeCompare(b.type));
    },
  };
}
