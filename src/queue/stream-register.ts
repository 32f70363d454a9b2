import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EncodedKnobs } from '../knobs/encode.js';
import { encodedKnobsSchema } from '../records/knobs.js';
import { parseJsonRecord } from '../records/parse.js';
import { segmentRowSchema, type SegmentRow } from '../records/segment-row.js';
import type { RedisClient } from './connection.js';
import { knobUpdateRecordSchema, streamMetaSchema, type KnobUpdate, type KnobUpdateRecord, type StreamMeta } from '../records/stream.js';

export type { KnobUpdate, KnobUpdateRecord, StreamMeta } from '../records/stream.js';

// Claiming a segment and reading the knobs that apply to it is one atomic step, and so is
// publishing an update (validFromSeq = last claimed + 1): an update can never reach back
// to a segment that was already encoded, and always applies from the very next one.
// The scripts live in ./lua/ (each file's header says what it guarantees). They are read next
// to this module: src/queue/lua/ from the sources (tsx, vitest) and dist/src/queue/lua/ in the
// build, where `npm run build` copies them (tsc copies no .lua).
const SCRIPTS = {
  oneadaptClaim: { file: 'claim.lua', numberOfKeys: 1 },
  oneadaptCommit: { file: 'commit.lua', numberOfKeys: 3 },
  oneadaptOwn: { file: 'own.lua', numberOfKeys: 1 },
  oneadaptEnqueued: { file: 'enqueued.lua', numberOfKeys: 1 },
} as const;

interface StreamScripts {
  oneadaptClaim(knobsKey: string, seq: string, owner: string): Promise<unknown>;
  oneadaptOwn(knobsKey: string, owner: string): Promise<unknown>;
  oneadaptEnqueued(knobsKey: string, seq: string, owner: string): Promise<unknown>;
  oneadaptCommit(policyKey: string, knobsKey: string, updatesKey: string, seq: string, state: string, knobs: string, streamId: string, consumedChannel: string, readLastSeq: string): Promise<unknown>;
}

let luaSources: Record<keyof typeof SCRIPTS, string> | undefined;
function readScripts(): Record<keyof typeof SCRIPTS, string> {
  if (!luaSources) {
    const read = (file: string): string => {
      const url = new URL(`./lua/${file}`, import.meta.url);
      try {
        return readFileSync(url, 'utf8');
      } catch (err) {
        throw new Error(`Lua script ${fileURLToPath(url)} is missing (the build copies src/queue/lua/ next to stream-register.js): ${(err as Error).message}`, { cause: err });
      }
    };
    luaSources = Object.fromEntries(Object.entries(SCRIPTS).map(([name, def]) => [name, read(def.file)])) as Record<keyof typeof SCRIPTS, string>;
  }
  return luaSources;
}

const scripted = new WeakSet<RedisClient>();
/**
 * Defines the scripts on `redis` once per client (several registers may share one): ioredis
 * then sends EVAL the first time on a connection and EVALSHA after, falling back to EVAL when
 * Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH), as BullMQ does.
 */
function withScripts(redis: RedisClient): RedisClient & StreamScripts {
  if (!scripted.has(redis)) {
    const lua = readScripts();
    for (const [name, def] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: def.numberOfKeys, lua: lua[name as keyof typeof SCRIPTS] });
    scripted.add(redis);
  }
  return redis as RedisClient & StreamScripts;
}

/** Another ingest took the stream over (a restart while this one still ran): this one must stop. */
export class IngestFencedError extends Error {
  override name = 'IngestFencedError';
}

/** A wait on the stream's state ran past its deadline: the thing waited for did not happen. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/** How long a wait may take and what cancels it; no timeoutMs: no deadline. */
export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One pending wait on a channel of the subscriber connection. */
interface Waiter {
  /** A message arrived on the channel. */
  message(payload: string): void;
  /** The subscription was (re-)established: messages may have been missed, read the state again. */
  recheck(): void;
  fail(err: Error): void;
}

export type CommitOutcome = { consumed: false; conflict?: true } | { consumed: true; update?: { version: number; validFromSeq: number } };

/**
 * Per-stream state in Redis: metadata, the knob register, the policy state, report rows.
 *
 * Waiting (the lockstep ingest, `oneadapt run` waiting for its rows) is done with real
 * subscribers, not polling: commit.lua PUBLISHes each consumed seq on the stream's consumed
 * channel, recordRow PUBLISHes on its rows channel, and waitConsumed / waitRows listen on a
 * dedicated subscriber connection (`redis.duplicate()`, opened on the first wait that has to
 * wait, closed by close()). Each wait subscribes first and reads the state after, so a change
 * that lands before the subscription is seen by the read and one after it by the message: no
 * lost wake-up. Knob updates are not published: nobody needs them as messages (the ingest reads
 * its knobs atomically with claim(), the report reads updates()), so that channel is gone.
 */
export class StreamRegister {
  private readonly scripts: RedisClient & StreamScripts;
  private subscriber: RedisClient | undefined;
  /** Pending waits by channel, and the SUBSCRIBE that each channel's first wait sent. */
  private readonly channels = new Map<string, { waiters: Set<Waiter>; subscribed: Promise<unknown> }>();
  private closed = false;

  /** On a cluster, `{streamId}`: every key of one stream shares its slot (see key()). */
  private readonly tag: (streamId: string) => string;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.scripts = withScripts(redis);
    this.tag = redis.isCluster ? (id) => `{${id}}` : (id) => id;
  }

  /**
   * `<prefix>:oa:stream:<id>:<part>` on one Redis; `<prefix>:oa:stream:{<id>}:<part>` on a
   * cluster, where the hash tag puts all of a stream's keys in one slot: the claim and commit
   * scripts and the register/row transactions touch several of them at once, which a cluster
   * allows only within one slot. Streams spread over the cluster by id.
   */
  private key(streamId: string, part: string): string {
    return `${this.prefix}:oa:stream:${this.tag(streamId)}:${part}`;
  }

  /** Carries the seq of every result commit() consumes, published by commit.lua in the same step. */
  consumedChannel(streamId: string): string {
    return this.key(streamId, 'consumed');
  }

  /**
   * Carries the seq of every row recordRow() is handed (a duplicate too). Not the consumed
   * channel: a result that arrives after a newer one records its row but is not consumed.
   */
  rowsChannel(streamId: string): string {
    return this.key(streamId, 'rows-recorded');
  }

  /** Registers a stream with its initial knobs and policy state (kept if it exists). */
  async register(meta: StreamMeta, knobs: EncodedKnobs, policyState: unknown): Promise<void> {
    // The stream's own keys in one transaction (one slot on a cluster); the index of streams is
    // another slot, so it is written after: a crash in between leaves a registered stream out of
    // streams() until the retried register adds it, never an index entry without a stream.
    const multi = this.redis.multi();
    multi.set(this.key(meta.streamId, 'meta'), JSON.stringify(meta));
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'knobs', JSON.stringify(knobs));
    // The knobs of version 0, for segments claimed before any update (their error rows name them).
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'initial', JSON.stringify(knobs));
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'version', '0');
    multi.hsetnx(this.key(meta.streamId, 'knobs'), 'validFromSeq', '0');
    multi.hsetnx(this.key(meta.streamId, 'policy'), 'state', JSON.stringify(policyState));
    const res = await multi.exec();
    const failed = res === null ? new Error('transaction aborted') : res.find(([err]) => err)?.[0];
    if (failed) throw failed;
    await this.redis.sadd(`${this.prefix}:oa:streams`, meta.streamId);
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

  /**
   * Makes `owner` the stream's only ingest (any earlier one is fenced from its next claim on)
   * and returns the seq to resume from: one after the last segment whose job was enqueued.
   */
  async takeOwnership(streamId: string, owner: string): Promise<number> {
    return Number(await this.scripts.oneadaptOwn(this.key(streamId, 'knobs'), owner)) + 1;
  }

  /** Records that segment `seq`'s job is queued; false when another ingest owns the stream. */
  async markEnqueued(streamId: string, seq: number, owner = ''): Promise<boolean> {
    return Number(await this.scripts.oneadaptEnqueued(this.key(streamId, 'knobs'), String(seq), owner)) === 1;
  }

  /**
   * Marks `seq` as being encoded now and returns the knobs it must use. A seq claimed before
   * (an ingest resumed mid-segment) gets the knobs that were valid at it, never later ones.
   */
  async claim(streamId: string, seq: number, owner = ''): Promise<KnobUpdate> {
    const [knobs, version, from, status] = (await this.scripts.oneadaptClaim(this.key(streamId, 'knobs'), String(seq), owner)) as [string | null, string, string, string];
    if (status === 'fenced') throw new IngestFencedError(`stream "${streamId}": another ingest took it over; this one stops before segment ${seq}`);
    if (!knobs) throw new Error(`stream "${streamId}" is not registered`);
    if (status === 'reclaim') return this.knobsFor(streamId, seq);
    return { streamId, knobs: parseJsonRecord(encodedKnobsSchema, knobs, `stream ${streamId} knobs`), version: Number(version), validFromSeq: Number(from) };
  }

  async currentKnobs(streamId: string): Promise<KnobUpdate | undefined> {
    const h = await this.redis.hgetall(this.key(streamId, 'knobs'));
    if (!h.knobs) return undefined;
    return { streamId, knobs: parseJsonRecord(encodedKnobsSchema, h.knobs, `stream ${streamId} knobs`), version: Number(h.version), validFromSeq: Number(h.validFromSeq) };
  }

  /** The knobs segment `seq` was (or will be) encoded with: the newest update valid at it. */
  async knobsFor(streamId: string, seq: number): Promise<KnobUpdate> {
    const hit = (await this.updates(streamId)).filter((u) => u.validFromSeq <= seq).pop();
    if (hit) return { streamId, version: hit.version, validFromSeq: hit.validFromSeq, knobs: hit.knobs };
    const h = await this.redis.hmget(this.key(streamId, 'knobs'), 'initial', 'knobs');
    const raw = h[0] ?? h[1];
    if (!raw) throw new Error(`stream "${streamId}" is not registered`);
    return { streamId, version: 0, validFromSeq: 0, knobs: parseJsonRecord(encodedKnobsSchema, raw, `stream ${streamId} knobs`) };
  }

  async policyState(streamId: string): Promise<{ state: unknown; lastSeq: number; stale: number }> {
    const h = await this.redis.hgetall(this.key(streamId, 'policy'));
    return { state: h.state ? JSON.parse(h.state) : undefined, lastSeq: h.lastSeq !== undefined ? Number(h.lastSeq) : -1, stale: Number(h.stale ?? 0) };
  }

  /**
   * Consumes result `seq` exactly once: stores the new policy state and, when the knobs
   * changed, an update valid from the next unclaimed segment. With `readLastSeq` (the lastSeq
   * read together with the state the step started from), the commit is a compare-and-set:
   * `conflict` when another coordinator committed in between.
   */
  async commit(streamId: string, seq: number, state: unknown, knobs: EncodedKnobs | undefined, readLastSeq?: number): Promise<CommitOutcome> {
    const res = (await this.scripts.oneadaptCommit(
      this.key(streamId, 'policy'),
      this.key(streamId, 'knobs'),
      this.key(streamId, 'updates'),
      String(seq),
      JSON.stringify(state ?? null),
      knobs ? JSON.stringify(knobs) : '',
      streamId,
      this.consumedChannel(streamId),
      readLastSeq === undefined ? '' : String(readLastSeq),
    )) as number[];
    if (res[0] === 0) return { consumed: false };
    if (res[0] === 2) return { consumed: false, conflict: true };
    return res.length === 3 ? { consumed: true, update: { version: Number(res[1]), validFromSeq: Number(res[2]) } } : { consumed: true };
  }

  /** Stores a report row once; a duplicate result keeps the first row. */
  async recordRow(streamId: string, seq: number, row: SegmentRow): Promise<boolean> {
    // One transaction, and a duplicate publishes too: a coordinator that died between storing
    // the row and publishing leaves no waiter asleep once the retried job comes through.
    const res = await this.redis.multi().hsetnx(this.key(streamId, 'rows'), String(seq), JSON.stringify(row)).publish(this.rowsChannel(streamId), String(seq)).exec();
    const [err, added] = res?.[0] ?? [new Error('transaction aborted'), 0];
    if (err) throw err;
    return added === 1;
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

  /** Segment `seq`'s report row; undefined until it is recorded. */
  async row(streamId: string, seq: number): Promise<SegmentRow | undefined> {
    const raw = await this.redis.hget(this.key(streamId, 'rows'), String(seq));
    return raw ? parseJsonRecord(segmentRowSchema, raw, `stream ${streamId} row ${seq}`) : undefined;
  }

  /** How far the ingest got: the last segment claimed (being encoded) and the last one queued; -1: none. */
  async ingestPosition(streamId: string): Promise<{ claimed: number; enqueued: number }> {
    const [claimed, enqueued] = await this.redis.hmget(this.key(streamId, 'knobs'), 'claimed', 'enqueued');
    return { claimed: Number(claimed ?? -1), enqueued: Number(enqueued ?? -1) };
  }

  async lastConsumed(streamId: string): Promise<number> {
    return (await this.policyState(streamId)).lastSeq;
  }

  /**
   * Resolves once result `seq` (or a newer one) of the stream is consumed; rejects at the
   * deadline or when `signal` aborts (`ingest aborted`). Already consumed: resolves at once.
   */
  async waitConsumed(streamId: string, seq: number, opts: WaitOptions = {}): Promise<void> {
    const consumed = async (): Promise<boolean> => Number((await this.redis.hget(this.key(streamId, 'policy'), 'lastSeq')) ?? -1) >= seq;
    await this.waitOn(this.consumedChannel(streamId), consumed, (payload) => Number(payload) >= seq, opts, {
      timeout: (ms) => `stream "${streamId}": no result for segment ${seq} within ${ms} ms (are inference workers and a coordinator running?)`,
      aborted: 'ingest aborted',
    });
  }

  /**
   * Resolves once the stream holds at least `count` report rows; rejects at the deadline or
   * when `signal` aborts. No timeoutMs: waits as long as it takes.
   */
  async waitRows(streamId: string, count: number, opts: WaitOptions = {}): Promise<void> {
    const enough = async (): Promise<boolean> => (await this.rowCount(streamId)) >= count;
    await this.waitOn(this.rowsChannel(streamId), enough, undefined, opts, {
      timeout: (ms) => `stream "${streamId}": fewer than ${count} report rows within ${ms} ms (are inference workers and a coordinator running?)`,
      aborted: `waiting for the rows of stream "${streamId}" aborted`,
    });
  }

  /**
   * Closes the subscriber connection (when a wait opened one) and rejects pending waits. The
   * register does not own `redis`: whoever created it disconnects it.
   */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('stream register closed');
    for (const { waiters } of [...this.channels.values()]) for (const w of [...waiters]) w.fail(err);
    this.channels.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /**
   * Waits on `channel` until `done()` holds: subscribe, then read (no lost wake-up). Each message
   * is judged by `fromMessage` when given (true: done; false: not yet), else by reading again.
   */
  private waitOn(
    channel: string,
    done: () => Promise<boolean>,
    fromMessage: ((payload: string) => boolean) | undefined,
    opts: WaitOptions,
    errors: { timeout: (ms: number) => string; aborted: string },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.leave(channel, waiter);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish(new Error(errors.aborted));
      const check = (): void => {
        if (settled) return;
        done().then((ok) => ok && finish(), (err: Error) => finish(err));
      };
      const waiter: Waiter = {
        message: (payload) => {
          if (!fromMessage) check();
          else if (fromMessage(payload)) finish();
        },
        recheck: check,
        fail: (err) => finish(err),
      };

      // Fast path, as the polling loop had it: already done resolves, even when aborted.
      done().then(
        (ok) => {
          if (ok) return finish();
          if (opts.signal?.aborted) return finish(new Error(errors.aborted));
          if (this.closed) return finish(new Error('stream register closed'));
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          const ms = opts.timeoutMs;
          if (ms !== undefined) timer = setTimeout(() => finish(new WaitTimeoutError(errors.timeout(ms))), ms);
          this.join(channel, waiter).then(check, (err: Error) => finish(err));
        },
        (err: Error) => finish(err),
      );
    });
  }

  /** Adds a waiter to `channel`, subscribing on its first one; resolves once subscribed. */
  private join(channel: string, waiter: Waiter): Promise<unknown> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { waiters: new Set(), subscribed: this.subscriberConnection().subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.waiters.add(waiter);
    return entry.subscribed;
  }

  /** Removes a waiter, unsubscribing after the channel's last one. */
  private leave(channel: string, waiter: Waiter): void {
    const entry = this.channels.get(channel);
    if (!entry?.waiters.delete(waiter) || entry.waiters.size > 0) return;
    this.channels.delete(channel);
    this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }

  private subscriberConnection(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const sub = this.redis.duplicate();
    // Reconnects by itself (and resubscribes on 'ready'); waits carry their own deadlines.
    sub.on('error', () => undefined);
    sub.on('message', (channel: string, payload: string) => {
      for (const w of [...(this.channels.get(channel)?.waiters ?? [])]) w.message(payload);
    });
    // After a reconnect ioredis subscribes again, but what was published meanwhile is lost:
    // subscribe once more (its reply says the subscription is live) and read the state again.
    let connected = false;
    sub.on('ready', () => {
      if (!connected) {
        connected = true;
        return;
      }
      const names = [...this.channels.keys()];
      if (names.length === 0) return;
      sub.subscribe(...names).then(
        () => {
          for (const name of names) for (const w of [...(this.channels.get(name)?.waiters ?? [])]) w.recheck();
        },
        () => undefined,
      );
    });
    this.subscriber = sub;
    return sub;
  }

  /** Removes everything the stream keeps in Redis. */
  async forget(streamId: string): Promise<void> {
    await this.redis.del(...['meta', 'knobs', 'policy', 'rows', 'updates'].map((p) => this.key(streamId, p)));
    await this.redis.srem(`${this.prefix}:oa:streams`, streamId);
  }
}
