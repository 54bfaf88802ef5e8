// The ConfigMap that keeps the config's books, against a stand-in apiserver on loopback: a missing
// ConfigMap loads as none saved, keys that are not ORCA's (or not JSON) are skipped, a save replaces
// the map and creates it when missing, and a refusal becomes a KubeApiError with the status.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { BurstBudgetStatus } from '../ports/budgets.js';
import { KubeApiError } from './client.js';
import { createConfigBookStore, idOf, keyOf } from './config-book-store.js';
import { closeServers, listenOnLoopback, tokenKubeConfig } from '../../test/fakes/loopback-apiserver.js';

interface Seen { readonly method: string; readonly path: string; readonly body: unknown }
type Reply = { readonly code: number; readonly body: unknown };

const PATH = '/api/v1/namespaces/orca-system/configmaps';
const servers: Server[] = [];
afterEach(() => {
  closeServers(servers);
});

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text) as unknown;
}

/** A stand-in apiserver answering each request with the next reply; what it was asked is in `seen`. */
async function apiserver(replies: Reply[]): Promise<{ kc: KubeConfig; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    void body(req).then((b) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', body: b });
      const r = replies.shift() ?? { code: 500, body: {} };
      res.writeHead(r.code, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
    });
  });
  return { kc: tokenKubeConfig(await listenOnLoopback(server, servers)), seen };
}

const failure = (code: number, message: string): Reply => ({ code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code } });
const configMap = (data: Record<string, string>): Reply => ({ code: 200, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orca-ledger-n', namespace: 'orca-system' }, data } });
const status = { spentUSD: 1.5, ledger: { settledMicroUSD: 1_500_000, pods: [] } } as unknown as BurstBudgetStatus;

describe('config book keys', () => {
  it.each([
    ['(cluster)', 'cluster.json'],
    ['team-a/(default)', 'default.team-a.json'],
  ])('maps %s to the key %s and back', (id, key) => {
    expect(keyOf(id)).toBe(key);
    expect(idOf(key)).toBe(id);
  });

  it('knows no key for a BurstBudget and no id for a key of someone else', () => {
    expect(keyOf('team-a/gpu')).toBeUndefined();
    expect(idOf('notes.txt')).toBeUndefined();
    expect(idOf('default.Team_A.json')).toBeUndefined();
  });
});

describe('createConfigBookStore', () => {
  it('loads a missing ConfigMap as no saved books', async () => {
    const { kc, seen } = await apiserver([failure(404, 'configmaps "orca-ledger-n" not found')]);
    const store = createConfigBookStore({ kc, namespace: 'orca-system', name: 'orca-ledger-n' });
    expect((await store.load()).size).toBe(0);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`GET ${PATH}/orca-ledger-n`]);
  });

  it('loads the books of its keys and skips other keys and values that are not JSON', async () => {
    const { kc } = await apiserver([configMap({ 'cluster.json': JSON.stringify(status), 'default.team-b.json': '{not json', 'notes.txt': 'hello' })]);
    const saved = await createConfigBookStore({ kc, namespace: 'orca-system', name: 'orca-ledger-n' }).load();
    expect([...saved.keys()]).toEqual(['(cluster)']);
    expect(saved.get('(cluster)')?.spentUSD).toBe(1.5);
  });

  it('turns a refused read into a KubeApiError naming the ConfigMap', async () => {
    const { kc } = await apiserver([failure(403, 'configmaps "orca-ledger-n" is forbidden: User "system:serviceaccount:orca-system:orca" cannot get resource "configmaps"')]);
    const err = await createConfigBookStore({ kc, namespace: 'orca-system', name: 'orca-ledger-n' }).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(403);
    expect((err as KubeApiError).message).toContain('read configmap orca-system/orca-ledger-n: HTTP 403: configmaps "orca-ledger-n" is forbidden');
  });

  it('replaces the whole map on save, and creates it when it is missing', async () => {
    const { kc, seen } = await apiserver([configMap({}), failure(404, 'not found'), configMap({})]);
    const store = createConfigBookStore({ kc, namespace: 'orca-system', name: 'orca-ledger-n' });
    await store.save(new Map([['(cluster)', status], ['team-a/gpu', status]]));
    await store.save(new Map([['team-a/(default)', status]]));
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`PUT ${PATH}/orca-ledger-n`, `PUT ${PATH}/orca-ledger-n`, `POST ${PATH}`]);
    expect((seen[0]?.body as { data: Record<string, string> }).data).toEqual({ 'cluster.json': JSON.stringify(status) });
    expect(seen[2]?.body).toMatchObject({ metadata: { name: 'orca-ledger-n', namespace: 'orca-system' }, data: { 'default.team-a.json': JSON.stringify(status) } });
  });

  it('rejects a save the apiserver refuses', async () => {
    const { kc } = await apiserver([failure(422, 'ConfigMap "orca-ledger-n" is invalid: []: Too long: must have at most 1048576 bytes')]);
    const err = await createConfigBookStore({ kc, namespace: 'orca-system', name: 'orca-ledger-n' }).save(new Map([['(cluster)', status]])).catch((e: unknown) => e);
    expect((err as KubeApiError).message).toContain('write configmap orca-system/orca-ledger-n: HTTP 422');
  });
});
