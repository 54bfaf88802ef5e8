import { describe, expect, it, vi } from 'vitest';
import { TAG } from '../agent-protocol/tags.js';
import type { Instance } from '../domain/instance.js';
import { createLogger } from '../observability/logger.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
import { Inventory, type Listing } from './inventory.js';

const pollMs = 10_000;
const until = (fn: () => void): Promise<void> => vi.waitFor(fn, { timeout: 2000, interval: 5 });
/** Resolves with 'hung' when `p` has not settled within `ms` of real time. */
const within = <T>(p: Promise<T>, ms = 1000): Promise<T | 'hung'> => Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => { r('hung'); }, ms))]);
const throttled = (): Error => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });

function add(launcher: FakeLauncher, id: string, tags: Record<string, string> = {}): void {
  launcher.instances.set(id, {
    id, type: 'p5.48xlarge', zone: 'us-east-1a', state: 'running', lifecycle: 'spot', launchTime: '2026-11-23T12:00:00Z',
    tags: { [TAG.cluster]: 'lab', [TAG.node]: 'orca-aws', ...tags },
  } satisfies Instance);
}

/** An inventory whose last listener records what it heard; `first` listens before it. */
function setup(first?: (l: Listing) => Promise<void>) {
  const clock = new FakeClock();
  const launcher = new FakeLauncher();
  const inventory = new Inventory({ launcher, clock, log: createLogger('silent'), clusterId: 'lab', nodeName: 'orca-aws', pollMs });
  const heard: Listing[] = [];
  if (first !== undefined) inventory.onListing(first);
  inventory.onListing((l) => { heard.push(l); return Promise.resolve(); });
  return { clock, launcher, inventory, heard };
}

describe('Inventory', () => {
  it('lists only the instances of its own cluster', async () => {
    const { launcher, inventory } = setup();
    add(launcher, 'i-ours');
    add(launcher, 'i-theirs', { [TAG.cluster]: 'other-lab' });
    add(launcher, 'i-untagged', { [TAG.cluster]: '' });
    add(launcher, 'i-other-node', { [TAG.node]: 'orca-gcp' });
    const listing = await inventory.refresh();
    expect(listing.instances.map((i) => i.id)).toEqual(['i-ours']);
  });

  it('decodes the pod identity and agent state once and gives listeners the listing it keeps', async () => {
    const { launcher, inventory, heard } = setup();
    add(launcher, 'i-1', {
      [TAG.podNamespace]: 'ns', [TAG.podName]: 'train', [TAG.podUid]: 'uid-1',
      [TAG.state]: 'v1 Running - -', [`${TAG.containerPrefix}main`]: 'running - - 0 1795000000 - - - - -',
    });
    const listing = await inventory.refresh();
    const [i] = listing.instances;
    expect(i?.pod).toEqual({ namespace: 'ns', name: 'train', uid: 'uid-1' });
    expect(i?.agent?.pod).toBe('Running');
    expect(i?.agent?.containers.get('main')?.state).toBe('running');
    expect(inventory.last).toBe(listing);
    expect(heard).toEqual([listing]);
    expect(heard[0]?.instances[0]).toBe(i);
  });

  it('ready resolves after the first successful listing, not after a failed one', async () => {
    const { launcher, inventory } = setup();
    let ready = false;
    const waiting = inventory.ready().then(() => { ready = true; });
    launcher.listError = throttled();
    await expect(inventory.refresh()).rejects.toThrow('Request limit exceeded.');
    await Promise.resolve();
    expect(ready).toBe(false);
    launcher.listError = undefined;
    await inventory.refresh();
    await waiting;
    expect(ready).toBe(true);
  });

  it('ready resolves only once every listener has taken the first listing in (a restart\'s clean-up sees the pods it holds)', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => { release = r; });
    const { launcher, inventory, heard } = setup(() => held);
    add(launcher, 'i-1');
    let ready = false;
    const waiting = inventory.ready().then(() => { ready = true; });
    const refreshing = inventory.refresh();
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect([ready, heard.length]).toEqual([false, 0]);
    expect(await within(inventory.ready(), 50)).toBe('hung');
    release();
    await refreshing;
    await waiting;
    expect([ready, heard.length]).toEqual([true, 1]);
  });

  it('ready with a signal resolves after the first success', async () => {
    const { inventory } = setup();
    const stop = new AbortController();
    const waiting = inventory.ready(stop.signal);
    await inventory.refresh();
    await expect(waiting).resolves.toBeUndefined();
    stop.abort();
    await expect(inventory.ready(stop.signal)).resolves.toBeUndefined();
  });

  it('ready rejects when its signal aborts before any listing succeeded', async () => {
    const { inventory } = setup();
    const stop = new AbortController();
    const waiting = inventory.ready(stop.signal);
    stop.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });

  it('ready rejects, rather than throws, for a signal aborted already', async () => {
    const { inventory } = setup();
    const stop = new AbortController();
    stop.abort(new Error('shutting down'));
    let waiting: Promise<void> | undefined;
    expect(() => { waiting = inventory.ready(stop.signal); }).not.toThrow();
    await expect(waiting).rejects.toThrow('shutting down');
  });

  it('notReadyReasons names the last error until a listing succeeded, then is empty', async () => {
    const { launcher, inventory } = setup();
    expect(inventory.notReadyReasons()).toEqual(['EC2 instances not listed yet']);
    launcher.listError = throttled();
    await expect(inventory.refresh()).rejects.toThrow();
    expect(inventory.notReadyReasons()).toEqual(['EC2 instances not listed yet: RequestLimitExceeded: Request limit exceeded.']);
    launcher.listError = new Error('socket hang up');
    await expect(inventory.refresh()).rejects.toThrow();
    expect(inventory.notReadyReasons()).toEqual(['EC2 instances not listed yet: Error: socket hang up']);
    launcher.listError = undefined;
    await inventory.refresh();
    expect(inventory.notReadyReasons()).toEqual([]);
    launcher.listError = throttled();
    await expect(inventory.refresh()).rejects.toThrow();
    expect(inventory.notReadyReasons()).toEqual([]);
  });

  it('keeps the last listing when a refresh fails', async () => {
    const { launcher, inventory } = setup();
    add(launcher, 'i-1');
    const first = await inventory.refresh();
    launcher.listError = throttled();
    await expect(inventory.refresh()).rejects.toBe(launcher.listError);
    expect(inventory.last).toBe(first);
  });

  it('a rejecting listener does not fail refresh, and the listeners after it still hear the listing', async () => {
    const { launcher, inventory, heard } = setup(() => Promise.reject(new Error('sync failed')));
    add(launcher, 'i-1');
    const listing = await inventory.refresh();
    expect(listing.instances.map((i) => i.id)).toEqual(['i-1']);
    expect(heard).toEqual([listing]);
    expect(inventory.notReadyReasons()).toEqual([]);
  });

  it('a listener that throws before it returns a promise does not fail refresh either', async () => {
    const { launcher, inventory, heard } = setup(() => { throw new Error('not a promise'); });
    add(launcher, 'i-1');
    const listing = await inventory.refresh();
    expect(heard).toEqual([listing]);
    expect((await inventory.refresh()).sequence).toBe(1);
    expect(heard.map((l) => l.sequence)).toEqual([0, 1]);
  });

  it('sequence counts the successful listings and at is the clock time of each', async () => {
    const { clock, launcher, inventory } = setup();
    const start = clock.now().getTime();
    expect((await inventory.refresh()).sequence).toBe(0);
    await clock.advance(1000);
    launcher.listError = throttled();
    await expect(inventory.refresh()).rejects.toThrow();
    launcher.listError = undefined;
    await clock.advance(1000);
    const second = await inventory.refresh();
    expect(second).toMatchObject({ sequence: 1, at: start + 2000 });
    expect((await inventory.refresh()).sequence).toBe(2);
  });

  it('run lists at once, then every pollMs on the clock, and returns when aborted', async () => {
    const { clock, inventory, heard } = setup();
    const stop = new AbortController();
    const running = inventory.run(stop.signal);
    await until(() => { expect(heard).toHaveLength(1); expect(clock.sleeping).toBe(1); });
    await clock.advance(pollMs - 1);
    expect(heard).toHaveLength(1);
    await clock.advance(1);
    await until(() => { expect(heard.map((l) => l.sequence)).toEqual([0, 1]); expect(clock.sleeping).toBe(1); });
    stop.abort();
    expect(await within(running)).toBeUndefined();
    expect(clock.sleeping).toBe(0);
  });

  it('run keeps polling after a failed listing and becomes ready at the next success', async () => {
    const { clock, launcher, inventory, heard } = setup();
    launcher.listError = throttled();
    const stop = new AbortController();
    const running = inventory.run(stop.signal);
    await until(() => { expect(clock.sleeping).toBe(1); });
    expect(inventory.notReadyReasons()).toEqual(['EC2 instances not listed yet: RequestLimitExceeded: Request limit exceeded.']);
    launcher.listError = undefined;
    await clock.advance(pollMs);
    await until(() => { expect(heard).toHaveLength(1); });
    expect(inventory.notReadyReasons()).toEqual([]);
    stop.abort();
    expect(await within(running)).toBeUndefined();
  });

  it('run returns when aborted while listTagged never answers', async () => {
    const { launcher, inventory, heard } = setup();
    launcher.listHangs = true;
    const stop = new AbortController();
    const running = inventory.run(stop.signal);
    await new Promise((r) => setTimeout(r, 20));
    expect(await within(running, 50)).toBe('hung');
    stop.abort();
    expect(await within(running)).toBeUndefined();
    expect(heard).toEqual([]);
    expect(inventory.last).toBeUndefined();
  });
});
