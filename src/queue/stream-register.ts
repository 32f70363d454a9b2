import type { Redis } from 'ioredis';
import type { KnobSpaces } from '../knobs/space.js';
import type { EncodedKnobs } from './schemas.js';

export interface StreamMeta {
  streamId: string;
  source: string;
  sourceWidth: number;
  sourceHeight: number;
  /** Policy spec, e.g. `oneadapt` or `fixed:qp=28`. */
  policy: string;
  model: string;
  segmentSeconds: number;
  analysisFps: number;
  /** Set once the ingest has cut the whole source. */
  totalSegments?: number;
  /** The stream's knob ladders (default: knobs/space DEFAULT_SPACES). */
  spaces?: KnobSpaces;
}

export interface KnobUpdate {
  streamId: string;
  version: number;
  /** First segment the knobs apply to; never an already-encoded one. */
  validFromSeq: number;
  knobs: EncodedKnobs;
}

// Claiming a segment and reading the knobs that apply to it is one atomic step, and so is
// publishing an update (validFromSeq = last claimed + 1): an update can never reach back
// to a segment that was already encoded, and always applies from the very next one.
const CLAIM = `
local claimed = tonumber(redis.call('HGET', KEYS[1], 'claimed') or '-1')
local seq = tonumber(ARGV[1])
if seq > claimed then redis.call('HSET', KEYS[1], 'claimed', seq) end
return {redis.call('HGET', KEYS[1], 'knobs'), redis.call('HGET', KEYS[1], 'version'), redis.call('HGET', KEYS[1], 'validFromSeq')}
`;

// Consumes result `seq` once: a duplicate or older result (seq <= last) changes nothing.
const COMMIT = `
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq') or '-1')
local seq = tonumber(ARGV[1])
if seq <= last then return {0} end
redis.call('HSET', KEYS[1], 'lastSeq', seq, 'state', ARGV[2])
if ARGV[3] ~= '' and ARGV[3] ~= redis.call('HGET', KEYS[2], 'knobs') then
  local claimed = tonumber(redis.call('HGET', KEYS[2], 'claimed') or '-1')
  local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
  local from = claimed + 1
  redis.call('HSET', KEYS[2], 'knobs', ARGV[3], 'validFromSeq', from)
  local update = cjson.encode({streamId = ARGV[4], version = version, validFromSeq = from, afterSeq = seq, knobs = cjson.decode(ARGV[3])})
  redis.call('RPUSH', KEYS[4], update)
  redis.call('PUBLISH', KEYS[3], update)
  return {1, version, from}
end
return {1}
`;

export type CommitOutcome = { consumed: false } | { consumed: true; update?: { version: number; validFromSeq: number } };

/** Per-stream state in Redis: metadata, the knob register, the policy state, report rows. */
export class StreamStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(streamId: string, part: string): string {
    return `${this.prefix}:oa:stream:${streamId}:${part}`;
  }

  get updatesChannel(): string {
    return `${this.prefix}:oa:updates`;
  }

  consumedChannel(streamId: string): string {
    return this.key(streamId, 'consumed');
  }

  /** Registers a stream with its initial knobs and policy state (kept if it exists). */
  async register(meta: StreamMeta, knobs: EncodedKnobs, policyState: unknown): Promise<void> {
    const multi = this.redis.multi();
    multi.set(this.key(meta.streamId, 'meta'), JSON.stringify(meta));
    multi.sadd(`${this.prefix}:oa:streams`, meta.streamId);
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'knobs', JSON.stringify(knobs));
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'version', '0');
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'validFromSeq', '0');
    multi.hsetnx(this.key(meta.streamId, 'policy'), 'state', JSON.stringify(policyState));
    await multi.exec();
  }

  async meta(streamId: string): Promise<StreamMeta | undefined> {
    const raw = await this.redis.get(this.key(streamId, 'meta'));
    return raw ? (JSON.parse(raw) as StreamMeta) : undefined;
  }

  async setTotalSegments(streamId: string, total: number): Promise<void> {
    const meta = await this.meta(streamId);
    if (!meta) throw new Error(`stream "${streamId}" is not registered`);
    await this.redis.set(this.key(streamId, 'meta'), JSON.stringify({ ...meta, totalSegments: total }));
  }

  async streams(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}:oa:streams`);
  }

  /** Marks `seq` as being encoded now and returns the knobs it must use. */
  async claim(streamId: string, seq: number): Promise<KnobUpdate> {
    const [knobs, version, from] = (await this.redis.eval(CLAIM, 1, this.key(streamId, 'knobs'), String(seq))) as [string | null, string, string];
    if (!knobs) throw new Error(`stream "${streamId}" is not registered`);
    return { streamId, knobs: JSON.parse(knobs) as EncodedKnobs, version: Number(version), validFromSeq: Number(from) };
  }

  async currentKnobs(streamId: string): Promise<KnobUpdate | undefined> {
    const h = await this.redis.hgetall(this.key(streamId, 'knobs'));
    if (!h.knobs) return undefined;
    return { streamId, knobs: JSON.parse(h.knobs) as EncodedKnobs, version: Number(h.version), validFromSeq: Number(h.validFromSeq) };
  }

  async policyState(streamId: string): Promise<{ state: unknown; lastSeq: number }> {
    const h = await this.redis.hgetall(this.key(streamId, 'policy'));
    return { state: h.state ? JSON.parse(h.state) : undefined, lastSeq: h.lastSeq !== undefined ? Number(h.lastSeq) : -1 };
  }

  /**
   * Consumes result `seq` exactly once: stores the new policy state and, when the knobs
   * changed, publishes a versioned update valid from the next unclaimed segment.
   */
  async commit(streamId: string, seq: number, state: unknown, knobs: EncodedKnobs | undefined): Promise<CommitOutcome> {
    const res = (await this.redis.eval(
      COMMIT,
      4,
      this.key(streamId, 'policy'),
      this.key(streamId, 'knobs'),
      this.updatesChannel,
      this.key(streamId, 'updates'),
      String(seq),
      JSON.stringify(state ?? null),
      knobs ? JSON.stringify(knobs) : '',
      streamId,
    )) as number[];
    if (res[0] === 0) return { consumed: false };
    await this.redis.publish(this.consumedChannel(streamId), String(seq));
    return res.length === 3 ? { consumed: true, update: { version: Number(res[1]), validFromSeq: Number(res[2]) } } : { consumed: true };
  }

  /** Stores a report row once; a duplicate result keeps the first row. */
  async recordRow(streamId: string, seq: number, row: unknown): Promise<boolean> {
    return (await this.redis.hsetnx(this.key(streamId, 'rows'), String(seq), JSON.stringify(row))) === 1;
  }

  /** Every knob update published for the stream, oldest first. */
  async updates(streamId: string): Promise<(KnobUpdate & { afterSeq: number })[]> {
    const list = await this.redis.lrange(this.key(streamId, 'updates'), 0, -1);
    return list.map((u) => JSON.parse(u) as KnobUpdate & { afterSeq: number });
  }

  async rows<T>(streamId: string): Promise<T[]> {
    const h = await this.redis.hgetall(this.key(streamId, 'rows'));
    return Object.entries(h)
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([, v]) => JSON.parse(v) as T);
  }

  async rowCount(streamId: string): Promise<number> {
    return this.redis.hlen(this.key(streamId, 'rows'));
  }

  async lastConsumed(streamId: string): Promise<number> {
    return (await this.policyState(streamId)).lastSeq;
  }

  /** Removes everything the stream keeps in Redis. */
  async forget(streamId: string): Promise<void> {
    await this.redis.del(...['meta', 'knobs', 'policy', 'rows', 'updates'].map((p) => this.key(streamId, p)));
    await this.redis.srem(`${this.prefix}:oa:streams`, streamId);
  }
}
