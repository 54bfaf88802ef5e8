// Each start-up failure a person must fix, through the built CLI: one line on stderr naming the
// problem and the fix, no stack trace, its own exit code, nothing started. And a failure after a good
// start (the apiserver goes away) is retried: one short log line per attempt, no stack, no exit.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { defaultSubnets, type Subnet } from './ec2-node.js';
import { awsClientConfig, kubectl, testbed, waitFor } from './fixture.js';
import { startOrca, writeConfig } from './orca-process.js';
import { repoRoot } from './testbed/paths.js';
import { freePort } from './testbed/ports.js';

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string }

/**
 * The built CLI in an environment of only `env` (and PATH): no KUBECONFIG, no AWS variables, a HOME
 * without .kube or .aws. The SDK's warning about Node 20 is turned off: it is not ORCA's output.
 */
async function runOrca(config: unknown, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Run> {
  const home = mkdtempSync(join(tmpdir(), 'orca-home-'));
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'main.js'), '--config', writeConfig(config), ...args], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = await once(child, 'exit') as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The run printed exactly one line on stderr, matching `line`, no stack trace and no JSON log. */
function expectOneLine(run: Run, code: number, line: RegExp): void {
  expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code, stderr: expect.stringMatching(line) as unknown });
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^orca: .+\. Fix: .+\.\n$/);
  expect(run.stderr).not.toMatch(/\n\s+at |"stack"/);
  expect(run.stdout).toBe('');
}

function writeKubeconfig(server: string, user: Record<string, string>, ca?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'orca-kubeconfig-')), 'kubeconfig');
  writeFileSync(file, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
    clusters: [{ name: 'x', cluster: { server, ...(ca === undefined ? { 'insecure-skip-tls-verify': true } : { 'certificate-authority': ca }) } }],
    users: [{ name: 'x', user }], contexts: [{ name: 'x', context: { cluster: 'x', user: 'x' } }],
  }), { mode: 0o600 });
  return file;
}

const node = { name: 'orca-startup', internalIP: '127.0.0.1' };
let subnets: Subnet[] = [];
let awsEnv: Record<string, string> = {};

beforeAll(async () => {
  const aws = awsClientConfig();
  subnets = await defaultSubnets(new EC2Client(aws));
  awsEnv = { AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey };
});

function ec2Config(o: { region?: string; subnets?: { zone: string; subnetID: string }[]; securityGroupIDs?: string[] } = {}): unknown {
  const aws = awsClientConfig();
  return {
    aws: {
      region: o.region ?? aws.region, endpoint: aws.endpoint, subnets: o.subnets ?? subnets.slice(0, 1).map((s) => ({ zone: s.zone, subnetID: s.id })),
      ...(o.securityGroupIDs === undefined ? {} : { securityGroupIDs: o.securityGroupIDs }),
    },
    node,
  };
}

describe('start-up errors', () => {
  it('no kubeconfig and not in a cluster: exit 3', async () => {
    const run = await runOrca({ aws: { region: 'us-east-1' }, node }, []);
    expectOneLine(run, 3, /^orca: no kubeconfig found \(\$KUBECONFIG unset, no ~\/\.kube\/config\) and not running in a cluster\. Fix: pass --kubeconfig <file>, set KUBECONFIG/);
  });

  it('an apiserver that refuses connections: exit 4, naming the server', async () => {
    const closed = await freePort();
    const run = await runOrca({ aws: { region: 'us-east-1' }, node }, ['--kubeconfig', writeKubeconfig(`https://127.0.0.1:${closed}`, { token: 'not-a-secret' })]);
    expectOneLine(run, 4, new RegExp(`^orca: cannot reach the apiserver https://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)\\. Fix: check the server address`));
  });

  it('a ServiceAccount with no rules: exit 6, naming the permissions it lacks', async () => {
    const ns = 'startup-norbac';
    await kubectl(['create', 'namespace', ns]);
    expect((await kubectl(['create', 'serviceaccount', 'nobody', '-n', ns])).code).toBe(0);
    const token = (await kubectl(['create', 'token', 'nobody', '-n', ns, '--duration=10m'])).stdout.trim();
    const bed = testbed();
    const run = await runOrca({ aws: { region: 'us-east-1' }, node }, ['--kubeconfig', writeKubeconfig(bed.apiserverUrl, { token }, bed.pki.caCert)]);
    expectOneLine(run, 6, /^orca: the kubeconfig's identity may not get nodes, create nodes, patch nodes, patch nodes\/status, get pods, .*get leases\.coordination\.k8s\.io in kube-node-lease.*\. Fix: grant them with kubectl apply -f deploy\/rbac\/orca\.yaml/);
  });

  it('no AWS credentials (empty environment, no config files, no instance metadata): exit 7', async () => {
    const run = await runOrca(ec2Config(), ['--kubeconfig', testbed().kubeconfig], { AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
    expectOneLine(run, 7, /^orca: no AWS credentials found \(environment, shared config and credentials files, web identity, container or instance metadata\)\. Fix: set AWS_ACCESS_KEY_ID/);
  });

  it('a region EC2 does not have: exit 8', async () => {
    const run = await runOrca(ec2Config({ region: 'xx-nowhere-9' }), ['--kubeconfig', testbed().kubeconfig], awsEnv);
    expectOneLine(run, 8, /^orca: aws\.region xx-nowhere-9 is not an EC2 region\. Fix: set aws\.region to a region such as us-east-1/);
  });

  it('a subnet that does not exist: exit 9, naming it', async () => {
    const [a] = subnets;
    const missing = [...(a === undefined ? [] : [{ zone: a.zone, subnetID: a.id }]), { zone: 'us-east-1b', subnetID: 'subnet-0123456789abcdef0' }];
    const run = await runOrca(ec2Config({ subnets: missing }), ['--kubeconfig', testbed().kubeconfig], awsEnv);
    expectOneLine(run, 9, /^orca: aws\.subnets subnet-0123456789abcdef0 does not exist in us-east-1\. Fix: use subnet ids of your VPC/);
  });

  it('a security group that does not exist: exit 10, naming it', async () => {
    const run = await runOrca(ec2Config({ securityGroupIDs: ['sg-0123456789abcdef0'] }), ['--kubeconfig', testbed().kubeconfig], awsEnv);
    expectOneLine(run, 10, /^orca: aws\.securityGroupIDs sg-0123456789abcdef0 does not exist in us-east-1\. Fix: use security group ids/);
  });
});

/** A TCP forwarder to `target` (host:port) that can be cut: it then refuses every connection. */
async function forwarder(target: URL): Promise<{ port: number; cut: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    const up = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const x of [s, up]) { sockets.add(x); x.on('close', () => sockets.delete(x)); x.on('error', () => undefined); }
    s.pipe(up).pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    cut: () => new Promise<void>((r) => { server.close(() => { r(); }); for (const x of sockets) x.destroy(); }),
  };
}

describe('after a good start', () => {
  let orca: ReturnType<typeof startOrca> | undefined;
  afterAll(async () => {
    await orca?.stop('SIGKILL');
    await kubectl(['delete', 'node', 'orca-transient', '--ignore-not-found']);
  });

  it('keeps retrying when the apiserver goes away, one line per attempt without a stack trace', async () => {
    const bed = testbed();
    const fwd = await forwarder(new URL(bed.apiserverUrl));
    const admin = parse(readFileSync(bed.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    for (const c of admin.clusters) c.cluster.server = `https://127.0.0.1:${fwd.port}`;
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'orca-kubeconfig-')), 'kubeconfig');
    writeFileSync(kubeconfig, stringify(admin), { mode: 0o600 });
    const ops = await freePort();
    orca = startOrca({ aws: { region: 'us-east-1' }, node: { ...node, name: 'orca-transient', kubeletPort: await freePort() }, ops: { port: ops, host: '127.0.0.1' }, kubeletApi: { host: '127.0.0.1' } },
      { args: ['--kubeconfig', kubeconfig] });
    await waitFor('orca ready', () => Promise.resolve(orca?.logLines().find((l) => l.msg === 'orca ready')), 60_000, 200);
    const before = orca.logLines().length;
    await fwd.cut();
    const failures = await waitFor('three logged failures after the cut', () => {
      const lines = orca?.logLines().slice(before).filter((l) => Number(l.level) >= 40) ?? [];
      return Promise.resolve(lines.length >= 3 ? lines : undefined);
    }, 60_000, 250);
    for (const l of failures) expect(JSON.stringify(l)).not.toMatch(/"stack"|\\n\s+at /);
    expect(orca.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${ops}/healthz`)).status).toBe(200);
    expect(await orca.stop('SIGTERM')).toBe(0);
    expect(orca.stderr()).not.toMatch(/^orca: /m);
  });
});
