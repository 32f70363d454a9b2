import type { Redis } from 'ioredis';
import type { EncodedKnobs } from '../knobs/encode.js';
import { encodedKnobsSchema } from '../records/knobs.js';
import { parseJsonRecord } from '../records/parse.js';
import { segmentRowSchema, type SegmentRow } from '../records/segment-row.js';
import { knobUpdateRecordSchema, streamMetaSchema, type KnobUpdate, type KnobUpdateRecord, type StreamMeta } from '../records/stream.js';

export type { KnobUpdate, KnobUpdateRecord, StreamMeta } from '../records/stream.js';

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
export class StreamRegister {
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
    return raw ? parseJsonRecord(streamMetaSchema, raw, `stream ${streamId} metadata`) : undefined;
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
    return { streamId, knobs: parseJsonRecord(encodedKnobsSchema, knobs, `stream ${streamId} knobs`), version: Number(version), validFromSeq: Number(from) };
  }

  async currentKnobs(streamId: string): Promise<KnobUpdate | undefined> {
    const h = await this.redis.hgetall(this.key(streamId, 'knobs'));
    if (!h.knobs) return undefined;
    return { streamId, knobs: parseJsonRecord(encodedKnobsSchema, h.knobs, `stream ${streamId} knobs`), version: Number(h.version), validFromSeq: Number(h.validFromSeq) };
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
  async recordRow(streamId: string, seq: number, row: SegmentRow): Promise<boolean> {
    return (await this.redis.hsetnx(this.key(streamId, 'rows'), String(seq), JSON.stringify(row))) === 1;
  }

  /** Every knob update published for the stream, oldest first. */
  async updates(streamId: string): Promise<KnobUpdateRecord[]> {
    const list = await this.redis.lrange(this.key(streamId, 'updates'), 0, -1);
    return list.map((u, i) => parseJsonRecord(knobUpdateRecordSchema, u, `stream ${streamId} update #${i + 1}`));
  }

  /** The stream's report rows in seq order, each validated as it is read back. */
  async rows(streamId: string): Promise<SegmentRow[]> {
    const h = await this.redis.hgetall(this.key(streamId, 'rows'));
    return Object.entries(h)
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([seq, v]) => parseJsonRecord(segmentRowSchema, v, `stream ${streamId} row ${seq}`));
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
