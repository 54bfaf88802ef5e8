// Every e2e file starts with an empty moto (its default VPC, subnets, images and public parameters
// come back on first use): moto keeps terminated instances for good and scans them all on every
// DescribeInstances, so instances left by earlier files (a 500-pod burst, a 1000-instance read)
// would slow every later call by seconds and make their waits measure moto instead of ORCA.
import { beforeAll, inject } from 'vitest';

beforeAll(async () => {
  const aws = inject('testbed').aws;
  if (aws === null) return;
  const res = await fetch(`${aws.endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto did not reset: HTTP ${String(res.status)}`);
});
