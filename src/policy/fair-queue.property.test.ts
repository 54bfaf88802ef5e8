// Property test of the fair queue over simulated time: pods arrive across 5–10 namespaces, one of
// which floods the queue; each round finished pods free their room and admit() starts what it can.
// Seeded (test/fakes/random.ts); every failure message names the seed.
//
// The model. Pools: "gpu", shared by all namespaces (capacity C), and per namespace "usd:<ns>" (money
// a namespace may have reserved at once) and "instances:<ns>". Every pod draws a positive amount from
// its namespace's two pools and from "gpu", runs 1..D rounds, fits the empty room (it could always
// fit), and has priority 0 (a higher PriorityClass may keep lower ones waiting by design). Its quote
// is gpus × rounds × $1 and it spends its quote, charged when it ends.
//
// What is proved and checked:
// (1) Safety, every round: no pool is over-committed, and no started pod draws from a pool that a pod
//     considered before it (and left waiting) was short of.
// (2) Backfill never starves: let K(P) be the pods started before P in rounds P was in the queue.
//     Then P is in the queue at most (K(P) + 1)·(2D − 1) rounds. Proof: take 2D − 1 rounds r … r+2D−2
//     in which no pod before P starts. P waiting holds a pool every pod of its namespace L draws
//     ("usd:L", "instances:L" or "gpu"), so no pod of L starts; those running end by r+D−1, after
//     which P can be short only of "gpu", which it then holds, so nothing after it starts; pods after
//     P started before r+D−1 end by r+2D−2. In round r+2D−2 nothing runs, so the first pods considered
//     fit, and P starts. So between two starts before P at most 2D−2 rounds pass without P starting.
// (3) Fair share: a pod X of namespace N is considered before P (namespace L) only when usage(N) ≤
//     usage(L). usage(L) ≤ Q_L, the quotes L has had admitted (penalties are replaced, not added, by
//     spend), and usage(N) ≥ δ·q_min(N)·(N's admissions), δ = 0.5^(elapsed / half-life). So at most
//     1 + ⌊Q_L / (δ·q_min(N))⌋ pods of N start before P, however many N submits. With (2), a light
//     pod waits at most (1 + older L pods + Σ_N min(n_N, 1 + ⌊Q_L / (δ·q_min(N))⌋))·(2D − 1) rounds.
import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/fakes/random.js';
import { USD } from './budget-types.js';
import { admit, poolRoomOps, type Admission, type PoolNeeds, type PoolRoom, type WaitingPod } from './fair-queue.js';
import { DEFAULT_HALF_LIFE_MS, FairShare } from './fair-share.js';

const T0 = Date.UTC(2025, 0, 1);
const ROUND_MS = 15 * 60_000;
const D = 4;
const GPUS = 16;
const ARRIVAL_ROUNDS = 60;
const MAX_ROUNDS = 3000;
const PER_ROUND = 2 * D - 1;
const SEEDS = Array.from({ length: 24 }, (_, i) => 1000 + 7919 * i);

interface SimPod extends WaitingPod, PoolNeeds {
  readonly arrival: number;
  readonly gpus: number;
  readonly duration: number;
}

interface Scenario {
  readonly seed: number;
  readonly flooder: string;
  readonly namespaces: readonly string[];
  readonly room: PoolRoom;
  readonly pods: readonly SimPod[];
}

interface PodRecord {
  start?: number;
  aheadStarts: number;
  readonly aheadBy: Map<string, number>;
  /** Quotes of the pod's namespace admitted up to the end of its start round. */
  ownQuotesAtStart: number;
}

interface Sim {
  readonly sc: Scenario;
  round: number;
  room: PoolRoom;
  share: FairShare;
  waiting: SimPod[];
  running: { pod: SimPod; end: number }[];
  readonly records: Map<string, PodRecord>;
  readonly admittedQuotes: Map<string, number>;
  readonly violations: string[];
  maxFloodWaiting: number;
}

const ops = poolRoomOps<SimPod>();

function makePod(rng: () => number, o: { ns: string; arrival: number; n: number }): SimPod {
  const gpus = [1, 2, 4, 8][Math.floor(rng() * 4)] ?? 1;
  const duration = 1 + Math.floor(rng() * D);
  const quote = gpus * duration * USD;
  const needs = { gpu: gpus, [`usd:${o.ns}`]: quote, [`instances:${o.ns}`]: 1 };
  const createdAt = T0 + o.arrival * ROUND_MS + Math.floor(rng() * ROUND_MS);
  return { uid: `${o.ns}-${o.n}`, namespace: o.ns, priority: 0, createdAt, quote, needs, arrival: o.arrival, gpus, duration };
}

function arrivalsOf(rng: () => number, namespaces: readonly string[], flooder: string): SimPod[] {
  const pods: SimPod[] = [];
  for (let arrival = 0; arrival < ARRIVAL_ROUNDS; arrival++) {
    for (const ns of namespaces) {
      const count = ns === flooder ? 2 + Math.floor(rng() * 4) : Number(rng() < 0.15);
      for (let i = 0; i < count; i++) pods.push(makePod(rng, { ns, arrival, n: pods.length }));
    }
  }
  return pods;
}

function scenario(seed: number): Scenario {
  const rng = seeded(seed);
  const namespaces = Array.from({ length: 5 + Math.floor(rng() * 6) }, (_, i) => `ns${i}`);
  const flooder = namespaces[Math.floor(rng() * namespaces.length)] ?? 'ns0';
  const maxQuote = 8 * D * USD;
  const room = new Map<string, number>([['gpu', GPUS]]);
  for (const ns of namespaces) {
    room.set(`usd:${ns}`, maxQuote * (1 + Math.floor(rng() * 3)));
    room.set(`instances:${ns}`, ns === flooder ? 8 + Math.floor(rng() * 9) : 1 + Math.floor(rng() * 3));
  }
  return { seed, flooder, namespaces, room, pods: arrivalsOf(rng, namespaces, flooder) };
}

function give(room: PoolRoom, pod: SimPod): PoolRoom {
  const next = new Map(room);
  for (const [pool, need] of Object.entries(pod.needs)) next.set(pool, (next.get(pool) ?? 0) + need);
  return next;
}

function complete(sim: Sim, now: number): void {
  const [done, still] = [sim.running.filter((r) => r.end <= sim.round), sim.running.filter((r) => r.end > sim.round)];
  for (const { pod } of done) {
    sim.room = give(sim.room, pod);
    sim.share = sim.share.charge(pod.namespace, pod.quote, now);
  }
  sim.running = still;
}

/** An oracle written from the rule, not from the code: what each decision must have been. */
function checkRound(sim: Sim, res: Admission<SimPod, PoolRoom>): void {
  const left = new Map(sim.room);
  const shortSomewhere = new Set<string>();
  const where = `seed ${sim.sc.seed} round ${sim.round}`;
  for (const { pod, decision } of res.decisions) {
    const lacking = Object.entries(pod.needs).filter(([pool, n]) => n > (left.get(pool) ?? 0)).map(([pool]) => pool);
    const drawsHeld = Object.keys(pod.needs).filter((pool) => shortSomewhere.has(pool));
    const mustWait = lacking.length > 0 || drawsHeld.length > 0;
    if (decision !== (mustWait ? 'wait' : 'start')) sim.violations.push(`${where}: ${pod.uid} ${decision}, lacking [${lacking.join(', ')}], held [${drawsHeld.join(', ')}]`);
    if (decision === 'start') for (const [pool, n] of Object.entries(pod.needs)) left.set(pool, (left.get(pool) ?? 0) - n);
    else for (const pool of lacking) shortSomewhere.add(pool);
  }
  for (const [pool, v] of res.room) if (v < 0) sim.violations.push(`${where}: pool ${pool} over-committed (${v})`);
}

function account(sim: Sim, res: Admission<SimPod, PoolRoom>): void {
  const startsBy = new Map<string, number>();
  let starts = 0;
  for (const { pod, decision } of res.decisions) {
    const rec = sim.records.get(pod.uid) ?? { aheadStarts: 0, aheadBy: new Map<string, number>(), ownQuotesAtStart: 0 };
    sim.records.set(pod.uid, rec);
    rec.aheadStarts += starts;
    for (const [ns, n] of startsBy) rec.aheadBy.set(ns, (rec.aheadBy.get(ns) ?? 0) + n);
    if (decision !== 'start') continue;
    rec.start = sim.round;
    starts++;
    startsBy.set(pod.namespace, (startsBy.get(pod.namespace) ?? 0) + 1);
    sim.admittedQuotes.set(pod.namespace, (sim.admittedQuotes.get(pod.namespace) ?? 0) + pod.quote);
    sim.running.push({ pod, end: sim.round + pod.duration });
  }
  for (const p of res.started) {
    const rec = sim.records.get(p.uid);
    if (rec !== undefined) rec.ownQuotesAtStart = sim.admittedQuotes.get(p.namespace) ?? 0;
  }
}

function step(sim: Sim): void {
  const now = T0 + sim.round * ROUND_MS;
  complete(sim, now);
  sim.waiting.push(...sim.sc.pods.filter((p) => p.arrival === sim.round));
  const res = admit({ waiting: sim.waiting, room: sim.room, ops, share: sim.share, now });
  checkRound(sim, res);
  account(sim, res);
  sim.room = res.room;
  sim.share = res.share;
  sim.waiting = [...res.waiting];
  sim.maxFloodWaiting = Math.max(sim.maxFloodWaiting, sim.waiting.filter((p) => p.namespace === sim.sc.flooder).length);
  sim.round++;
}

function run(sc: Scenario): Sim {
  const sim: Sim = {
    sc, round: 0, room: sc.room, share: new FairShare(), waiting: [], running: [],
    records: new Map(), admittedQuotes: new Map(), violations: [], maxFloodWaiting: 0,
  };
  while ((sim.round < ARRIVAL_ROUNDS || sim.waiting.length > 0) && sim.round < MAX_ROUNDS) step(sim);
  return sim;
}

const decayAt = (round: number): number => 0.5 ** ((round * ROUND_MS) / DEFAULT_HALF_LIFE_MS);

/** 1 + ⌊Q_L / (δ·q_min(N))⌋, with a hair of slack for floating point. */
function fairShareLimit(quotesOfL: number, delta: number, minQuoteOfN: number): number {
  return 1 + Math.floor((quotesOfL / (delta * minQuoteOfN)) * (1 + 1e-9));
}

function minQuotes(sc: Scenario): Map<string, { min: number; count: number }> {
  const m = new Map<string, { min: number; count: number }>();
  for (const p of sc.pods) {
    const cur = m.get(p.namespace) ?? { min: Number.POSITIVE_INFINITY, count: 0 };
    m.set(p.namespace, { min: Math.min(cur.min, p.quote), count: cur.count + 1 });
  }
  return m;
}

/** Checks (2) for every pod and (3) for every pod of a light namespace; returns what is wrong. */
function checkBounds(sim: Sim): string[] {
  const { sc } = sim;
  const problems: string[] = [];
  const byNs = minQuotes(sc);
  const endDelta = decayAt(sim.round);
  for (const pod of sc.pods) {
    const rec = sim.records.get(pod.uid);
    if (rec?.start === undefined) {
      problems.push(`${pod.uid} never started`);
      continue;
    }
    const rounds = rec.start - pod.arrival + 1;
    if (rounds > (rec.aheadStarts + 1) * PER_ROUND) problems.push(`${pod.uid}: ${rounds} rounds with ${rec.aheadStarts} starts ahead`);
    if (pod.namespace === sc.flooder) continue;
    problems.push(...checkLight({ sim, pod, rec, rounds }, byNs, endDelta));
  }
  return problems.map((p) => `seed ${sc.seed}: ${p}`);
}

function checkLight(
  c: { sim: Sim; pod: SimPod; rec: PodRecord; rounds: number },
  byNs: ReadonlyMap<string, { min: number; count: number }>,
  endDelta: number,
): string[] {
  const { sim, pod, rec, rounds } = c;
  const problems: string[] = [];
  const totalOwn = sim.sc.pods.filter((p) => p.namespace === pod.namespace).reduce((s, p) => s + p.quote, 0);
  const older = sim.sc.pods.filter((p) => p.namespace === pod.namespace && p.createdAt < pod.createdAt).length;
  let ahead = 1 + older;
  for (const [ns, { min, count }] of byNs) {
    if (ns === pod.namespace) continue;
    const seen = rec.aheadBy.get(ns) ?? 0;
    const limit = fairShareLimit(rec.ownQuotesAtStart, decayAt(rec.start ?? 0), min);
    if (seen > limit) problems.push(`${pod.uid}: ${seen} pods of ${ns} started ahead, limit ${limit}`);
    ahead += Math.min(count, fairShareLimit(totalOwn, endDelta, min));
  }
  if (rounds > ahead * PER_ROUND) problems.push(`${pod.uid}: waited ${rounds} rounds, bound ${ahead * PER_ROUND}`);
  return problems;
}

describe('fair queue over simulated time (property)', () => {
  const sims = SEEDS.map((seed) => run(scenario(seed)));

  it.each(sims.map((sim) => ({ seed: sim.sc.seed, sim })))('seed $seed: never over-commits and never lets a later pod take what a waiting one is short of', ({ seed, sim }) => {
    expect(sim.violations, `seed ${seed}`).toEqual([]);
  });

  it.each(sims.map((sim) => ({ seed: sim.sc.seed, sim })))('seed $seed: every pod starts, within the proved bounds', ({ seed, sim }) => {
    expect(sim.round, `seed ${seed}: queue not drained after ${MAX_ROUNDS} rounds`).toBeLessThan(MAX_ROUNDS);
    expect(checkBounds(sim), `seed ${seed}`).toEqual([]);
  });

  it('is not vacuous: the flood really queues, light pods compete with it, and spans 5–10 namespaces', () => {
    for (const sim of sims) {
      const light = sim.sc.pods.filter((p) => p.namespace !== sim.sc.flooder);
      expect(sim.maxFloodWaiting, `seed ${sim.sc.seed}`).toBeGreaterThanOrEqual(20);
      expect(light.length, `seed ${sim.sc.seed}`).toBeGreaterThanOrEqual(10);
      expect(sim.sc.namespaces.length, `seed ${sim.sc.seed}`).toBeGreaterThanOrEqual(5);
      expect(sim.sc.namespaces.length, `seed ${sim.sc.seed}`).toBeLessThanOrEqual(10);
    }
    const lightWaits = sims.flatMap((sim) =>
      sim.sc.pods.filter((p) => p.namespace !== sim.sc.flooder).map((p) => (sim.records.get(p.uid)?.start ?? 0) - p.arrival));
    expect(Math.max(...lightWaits)).toBeGreaterThanOrEqual(2);
  });

  it('keeps light pods ahead of the flood: a light pod waits far less than the flood’s worst', () => {
    for (const sim of sims) {
      const wait = (p: SimPod): number => (sim.records.get(p.uid)?.start ?? MAX_ROUNDS) - p.arrival;
      const lightWorst = Math.max(...sim.sc.pods.filter((p) => p.namespace !== sim.sc.flooder).map(wait));
      const floodWorst = Math.max(...sim.sc.pods.filter((p) => p.namespace === sim.sc.flooder).map(wait));
      expect(lightWorst, `seed ${sim.sc.seed}: light ${lightWorst}, flood ${floodWorst}`).toBeLessThan(floodWorst);
    }
  });
});
