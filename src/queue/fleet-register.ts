import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  EMPTY_FLEET,
  FLEET_TIMEOUT_S,
  fleetTotals,
  fleetView,
  liveMembers,
  memberShares,
  observeMember,
  removeMember,
  type FleetBudget,
  type FleetState,
  type FleetTotals,
  type MemberObservation,
} from '../adapt/fleet-price.js';
import type { FleetView } from '../adapt/policy.js';
import { assertFleetName, fleetStateSchema } from '../records/fleet.js';
import { parseJsonRecord } from '../records/parse.js';
import type { RedisClient } from './connection.js';

// The fleet's budget and state live in one hash per fleet, under the fleet's own hash tag on a
// cluster ({fleet:<name>}: one slot, as the compare-and-set script needs). The state is one JSON
// document (prices, members); the math is src/adapt/fleet-price.ts, Redis only fences it.
const COMMIT_LUA = 'fleet-commit.lua';

interface FleetScripts {
  oneadaptFleetCommit(fleetKey: string, readVersion: string, state: string): Promise<unknown>;
}

let commitSource: string | undefined;
function commitScript(): string {
  if (commitSource === undefined) {
    const url = new URL(`./lua/${COMMIT_LUA}`, import.meta.url);
    try {
      commitSource = readFileSync(url, 'utf8');
    } catch (err) {
      throw new Error(`Lua script ${fileURLToPath(url)} is missing (the build copies src/queue/lua/ next to fleet-register.js): ${(err as Error).message}`, { cause: err });
    }
  }
  return commitSource;
}

const scripted = new WeakSet<RedisClient>();
function withScripts(redis: RedisClient): RedisClient & FleetScripts {
  if (!scripted.has(redis)) {
    redis.defineCommand('oneadaptFleetCommit', { numberOfKeys: 1, lua: commitScript() });
    scripted.add(redis);
  }
  return redis as RedisClient & FleetScripts;
}

/** Compare-and-set retries before an update gives up (each loss means another update went in). */
const MAX_ATTEMPTS = 50;

/** What `fleet set` changes; null clears a budget, undefined leaves it as it is. */
export interface BudgetChange {
  kbps?: number | null;
  gpuFps?: number | null;
  timeoutS?: number;
}

export interface FleetSnapshot {
  name: string;
  budget: FleetBudget;
  state: FleetState;
  version: number;
}

/** What `fleet show` prints and the metrics export. */
export interface FleetReading extends FleetSnapshot {
  totals: FleetTotals;
  priceBw?: number;
  priceGpu?: number;
  shares: Record<string, number>;
}

export class FleetConflictError extends Error {
  override name = 'FleetConflictError';
}

export class FleetRegister {
  private readonly scripts: RedisClient & FleetScripts;
  private readonly tag: (name: string) => string;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** The clock members' results are stamped with (timeouts); tests replay their own. */
    private readonly now: () => number = Date.now,
  ) {
    this.scripts = withScripts(redis);
    this.tag = redis.isCluster ? (n) => `{fleet:${n}}` : (n) => `fleet:${n}`;
  }

  /** `<prefix>:oa:fleet:<name>` on one Redis, `<prefix>:oa:{fleet:<name>}` on a cluster. */
  key(name: string): string {
    return `${this.prefix}:oa:${this.tag(assertFleetName(name))}`;
  }

  private get indexKey(): string {
    return `${this.prefix}:oa:fleets`;
  }

  /** Sets (or clears) budgets; the version moves, so no price step against the old budget is stored. */
  async setBudget(name: string, change: BudgetChange): Promise<FleetSnapshot> {
    const key = this.key(name);
    const multi = this.redis.multi();
    const field = (f: string, v: number | null | undefined) => {
      if (v === null) multi.hdel(key, f);
      else if (v !== undefined) {
        if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`fleet ${name}: ${f} must be a positive number, got ${v}`);
        multi.hset(key, f, String(v));
      }
    };
    field('budgetKbps', change.kbps);
    field('budgetGpuFps', change.gpuFps);
    field('timeoutS', change.timeoutS);
    multi.hincrby(key, 'version', 1);
    const res = await multi.exec();
    const failed = res === null ? new Error('transaction aborted') : res.find(([err]) => err)?.[0];
    if (failed) throw failed;
    // The index lives in another slot: written after (a crash in between only hides the fleet from `fleets()`).
    await this.redis.sadd(this.indexKey, name);
    return this.read(name);
  }

  async fleets(): Promise<string[]> {
    return (await this.redis.smembers(this.indexKey)).sort();
  }

  async read(name: string): Promise<FleetSnapshot> {
    const h = await this.redis.hgetall(this.key(name));
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const budget: FleetBudget = {
      ...(h.budgetKbps !== undefined ? { kbps: num(h.budgetKbps) } : {}),
      ...(h.budgetGpuFps !== undefined ? { gpuFps: num(h.budgetGpuFps) } : {}),
      timeoutS: num(h.timeoutS) ?? FLEET_TIMEOUT_S,
    };
    const state = h.state ? parseJsonRecord(fleetStateSchema, h.state, `fleet ${name} state`) : EMPTY_FLEET;
    return { name, budget, state, version: Number(h.version ?? 0) };
  }

  /** The fleet's budget, state, totals of the members still live, prices and shares. */
  async reading(name: string): Promise<FleetReading> {
    const snap = await this.read(name);
    const state = { ...snap.state, members: liveMembers(snap.state.members, this.now(), snap.budget.timeoutS) };
    return {
      ...snap,
      state,
      totals: fleetTotals(state),
      ...(state.logPriceBw !== undefined ? { priceBw: Math.exp(state.logPriceBw) } : {}),
      ...(state.logPriceGpu !== undefined ? { priceGpu: Math.exp(state.logPriceGpu) } : {}),
      shares: memberShares(state),
    };
  }

  /** The prices one member steps at. */
  async view(name: string, member: { weight: number; priority: number }): Promise<FleetView> {
    const { state, budget } = await this.read(name);
    return fleetView(state, budget, member);
  }

  /** Counts one result of a member and steps the prices, compare-and-set against other coordinators. */
  async observe(name: string, obs: Omit<MemberObservation, 'nowMs'>): Promise<FleetReading> {
    const nowMs = this.now();
    return this.update(name, (snap) => observeMember(snap.state, snap.budget, { ...obs, nowMs }));
  }

  /** The member leaves (its stream ended): its share is free at once. */
  async leave(name: string, streamId: string): Promise<FleetReading> {
    return this.update(name, (snap) => removeMember(snap.state, streamId));
  }

  /** Removes the fleet's state and budget. */
  async forget(name: string): Promise<void> {
    await this.redis.del(this.key(name));
    await this.redis.srem(this.indexKey, name);
  }

  private async update(name: string, step: (snap: FleetSnapshot) => FleetState): Promise<FleetReading> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const snap = await this.read(name);
      const state = step(snap);
      const [ok, version] = (await this.scripts.oneadaptFleetCommit(this.key(name), String(snap.version), JSON.stringify(state))) as [number, number];
      if (ok === 1) {
        const members = liveMembers(state.members, this.now(), snap.budget.timeoutS);
        const live = { ...state, members };
        return {
          name,
          budget: snap.budget,
          state: live,
          version: Number(version),
          totals: fleetTotals(live),
          ...(state.logPriceBw !== undefined ? { priceBw: Math.exp(state.logPriceBw) } : {}),
          ...(state.logPriceGpu !== undefined ? { priceGpu: Math.exp(state.logPriceGpu) } : {}),
          shares: memberShares(live),
        };
      }
      // Lost a race: back off a little (at random) so that racing coordinators do not collide again.
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
    }
    throw new FleetConflictError(`fleet ${name}: ${MAX_ATTEMPTS} compare-and-set races lost in a row`);
  }
}
