// The GPUs of the instance types the tests launch, as the nvidia-smi stand-in shows them (a test
// component, never shipped): count, model and memory per GPU in MiB, roughly what the real one reports.
export const emulatedGpus: ReadonlyMap<string, { readonly count: number; readonly model: string; readonly memoryMiB: number }> = new Map([
  ['g6.xlarge', { count: 1, model: 'NVIDIA L4', memoryMiB: 23034 }],
  ['g6.2xlarge', { count: 1, model: 'NVIDIA L4', memoryMiB: 23034 }],
  ['g6.12xlarge', { count: 4, model: 'NVIDIA L4', memoryMiB: 23034 }],
  ['g6e.xlarge', { count: 1, model: 'NVIDIA L40S', memoryMiB: 46068 }],
  ['p5.48xlarge', { count: 8, model: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 }],
  ['p5en.48xlarge', { count: 8, model: 'NVIDIA H200', memoryMiB: 143771 }],
]);
