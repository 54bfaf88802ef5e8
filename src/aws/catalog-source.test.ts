import { DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCatalogSource } from './catalog-source.js';

const ec2 = mockClient(EC2Client);
beforeEach(() => { ec2.reset(); });

const p5 = {
  InstanceType: 'p5.48xlarge' as const, VCpuInfo: { DefaultVCpus: 192 }, MemoryInfo: { SizeInMiB: 2097152 },
  ProcessorInfo: { SupportedArchitectures: ['x86_64' as const] },
  GpuInfo: { Gpus: [{ Name: 'H100', Manufacturer: 'NVIDIA', Count: 8, MemoryInfo: { SizeInMiB: 81920 } }] },
  NetworkInfo: { NetworkPerformance: '3200 Gigabit', EfaSupported: true, EfaInfo: { MaximumEfaInterfaces: 32 } },
};
const trn1 = {
  InstanceType: 'trn1.32xlarge' as const, VCpuInfo: { DefaultVCpus: 128 }, MemoryInfo: { SizeInMiB: 524288 },
  ProcessorInfo: { SupportedArchitectures: ['x86_64' as const] },
  NeuronInfo: { NeuronDevices: [{ Name: 'Trainium', Count: 16, CoreInfo: { Count: 2 }, MemoryInfo: { SizeInMiB: 32768 } }] },
  NetworkInfo: { NetworkPerformance: '800 Gigabit', EfaInfo: { MaximumEfaInterfaces: 8 } },
};

describe('createCatalogSource', () => {
  it('describes the families page by page and maps accelerators from GpuInfo and NeuronInfo', async () => {
    ec2.on(DescribeInstanceTypesCommand).resolvesOnce({ InstanceTypes: [trn1], NextToken: 'next' }).resolvesOnce({ InstanceTypes: [p5] });
    const types = await createCatalogSource(new EC2Client({ region: 'us-east-1' })).instanceTypes(['p5', 'trn1']);
    expect(types).toEqual([
      { type: 'p5.48xlarge', vcpus: 192, memoryMiB: 2097152, architectures: ['x86_64'], efaInterfaces: 32, networkPerformance: '3200 Gigabit',
        accelerator: { kind: 'nvidia', model: 'H100', count: 8, memoryMiB: 81920 } },
      { type: 'trn1.32xlarge', vcpus: 128, memoryMiB: 524288, architectures: ['x86_64'], efaInterfaces: 8, networkPerformance: '800 Gigabit',
        accelerator: { kind: 'neuron', model: 'Trainium', count: 16, memoryMiB: 32768, coresPerDevice: 2 } },
    ]);
    const calls = ec2.commandCalls(DescribeInstanceTypesCommand);
    // The SDK's paginator reuses one input object, so both calls show it as it was last sent.
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input).toEqual({ Filters: [{ Name: 'instance-type', Values: ['p5.*', 'trn1.*'] }], MaxResults: 100, NextToken: 'next' });
  });

  it('passes AWS errors on (throttling is retried by the SDK, not here)', async () => {
    ec2.on(DescribeInstanceTypesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    await expect(createCatalogSource(new EC2Client({ region: 'us-east-1', maxAttempts: 1 })).instanceTypes(['p5']))
      .rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });
});
