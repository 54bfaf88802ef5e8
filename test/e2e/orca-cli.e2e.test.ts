// ORCA runs in e2e as a user runs it: the built CLI with a config file, in its own process.
import { describe, expect, it } from 'vitest';
import { freePort } from './testbed/ports.js';
import { startOrca } from './orca-process.js';
import { awsClientConfig, waitFor } from './fixture.js';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('the orca CLI', () => {
  it('starts from a config file, serves its ops port, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const orca = startOrca({
      aws: { region: 'us-east-1', endpoint: awsClientConfig().endpoint },
      node: { name: 'orca-e2e' },
      ops: { port, host: '127.0.0.1' },
    });
    try {
      await waitFor('orca to log that it started', () =>
        Promise.resolve(orca.logLines().find((l) => l.msg === 'orca started')), 20_000, 100);
      expect((await get(port, '/healthz')).status).toBe(200);
      const ready = await get(port, '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'not_ready', reasons: ['virtual node not registered'] });
      const metrics = await get(port, '/metrics');
      expect(metrics.body).toMatch(/^orca_build_info\{version="\d+\.\d+\.\d+",nodejs="v\d+/m);
      expect(metrics.body).toMatch(/^orca_ready 0$/m);
    } finally {
      expect(await orca.stop('SIGTERM')).toBe(0);
    }
    expect(orca.logLines().map((l) => l.msg)).toEqual(expect.arrayContaining(['orca started', 'orca stopping', 'orca stopped']));
    expect(orca.logLines().find((l) => l.msg === 'orca started')).toMatchObject({ node: 'orca-e2e', region: 'us-east-1' });
  });

  it('refuses a bad config file with every problem listed and exit code 2, and starts nothing', async () => {
    const orca = startOrca({
      aws: { region: 'Virginia', vpcID: 'vpc-1' },
      node: { name: 'Bad_Name', capacity: { 'nvidia.com/gpu': -1 } },
    });
    expect(await orca.exited).toBe(2);
    const err = orca.stderr();
    expect(err).toContain('invalid configuration');
    expect(err).toContain('aws.region: an AWS region such as us-east-1');
    expect(err).toMatch(/aws: Unrecognized key: "vpcID"/);
    expect(err).toContain('node.name: a lowercase DNS name');
    expect(err).toContain('node.capacity.nvidia.com/gpu');
    expect(orca.stdout()).toBe('');
  });

  it('names a missing config file instead of starting with defaults', async () => {
    const orca = startOrca('unused', ['--config', '/nonexistent/orca.yaml']);
    expect(await orca.exited).toBe(2);
    expect(orca.stderr()).toContain('cannot read config file /nonexistent/orca.yaml: ENOENT');
  });
});
