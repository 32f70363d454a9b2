import type { Log } from '../../src/log.js';
import type { RedisClient } from '../../src/queue/connection.js';
import { watchStreamEvents, type StreamEvent, type StreamEventWatch } from '../../src/queue/stream-events.js';
import type { StreamRegister } from '../../src/queue/stream-register.js';
import { queueSnapshot, type DashboardQueues, type QueueSnapshot } from './queues.js';
import { StreamView, type FailureView, type LambdaPoint, type StreamSummary, type TimelinePoint, type UpdateView } from './stream-view.js';

/** What the dashboard reads: the ports of a runtime (`run`, `up`) or of its own (`oneadapt dashboard`). */
export interface DashboardSource {
  redis: RedisClient;
  streams: StreamRegister;
  queues: DashboardQueues;
}

/** One message to every page: a stream's news, the queues' counts, or "read everything again". */
export type FeedEvent =
  | { type: 'stream'; id: string; summary: StreamSummary; added?: true; point?: TimelinePoint; failure?: FailureView; updates?: UpdateView[]; lambda?: LambdaPoint }
  | { type: 'queues'; queues: QueueSnapshot[] }
  | { type: 'resync' };

export interface FeedOptions {
  log?: Log;
  /** How often the queues are counted while a page is open (once for all pages). */
  queuePollMs?: number;
}

/**
 * The dashboard's one view of Redis, shared by every page: streams' announcements arrive on one
 * pattern subscription (src/queue/stream-events), each is read back once and fanned out to the
 * pages' event streams; queue counts come from one poller that runs only while a page listens.
 * No page ever makes this server poll Redis on its behalf.
 */
export class StreamFeed {
  private views = new Map<string, StreamView>();
  /** Views dropped by a resync: their price history (kept nowhere else) carries over. */
  private stale = new Map<string, StreamView>();
  private readonly loading = new Map<string, Promise<StreamView | undefined>>();
  /** Per stream, announcements are applied one after the other, in arrival order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly clients = new Set<(e: FeedEvent) => void>();
  private watch: StreamEventWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastQueues: QueueSnapshot[] | undefined;
  private lastQueuesJson = '';
  private polling = false;

  constructor(
    private readonly src: DashboardSource,
    private readonly opts: FeedOptions = {},
  ) {}

  async start(): Promise<void> {
    this.watch = watchStreamEvents(this.src.redis, this.src.streams, (e) => this.onEvent(e), () => this.resync());
    await this.watch.ready;
  }

  close(): void {
    this.watch?.close();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clients.clear();
  }

  /** Every registered stream's summary, by id. */
  async summaries(): Promise<StreamSummary[]> {
    const ids = (await this.src.streams.streams()).sort();
    const views = await Promise.all(ids.map((id) => this.view(id)));
    const now = Date.now();
    return views.filter((v): v is StreamView => v !== undefined).map((v) => v.summary(now));
  }

  /** The view of one stream (loaded once, then kept current by its announcements). */
  async stream(id: string): Promise<StreamView | undefined> {
    return this.view(id);
  }

  /** A page's event stream joins; the returned function leaves. The first page starts the queue poller. */
  addClient(send: (e: FeedEvent) => void): () => void {
    this.clients.add(send);
    if (this.lastQueues) send({ type: 'queues', queues: this.lastQueues });
    if (!this.timer) {
      this.timer = setInterval(() => void this.pollQueues(), this.opts.queuePollMs ?? 2000);
      void this.pollQueues();
    }
    return () => {
      this.clients.delete(send);
      if (this.clients.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private broadcast(e: FeedEvent): void {
    for (const send of [...this.clients]) send(e);
  }

  private async pollQueues(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const queues = await queueSnapshot(this.src.queues);
      const json = JSON.stringify(queues);
      this.lastQueues = queues;
      if (json !== this.lastQueuesJson) {
        this.lastQueuesJson = json;
        this.broadcast({ type: 'queues', queues });
      }
    } catch (err) {
      this.opts.log?.(`dashboard: counting the queues failed: ${(err as Error).message}`, { level: 'warn' });
    } finally {
      this.polling = false;
    }
  }

  private view(id: string): Promise<StreamView | undefined> {
    const have = this.views.get(id);
    if (have) return Promise.resolve(have);
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Everything Redis holds of the stream, read once. */
  private async load(id: string): Promise<StreamView | undefined> {
    const s = this.src.streams;
    const meta = await s.meta(id);
    if (!meta) return undefined;
    const [rows, updates, knobs, policy, position] = await Promise.all([s.rows(id), s.updates(id), s.currentKnobs(id), s.policyState(id), s.ingestPosition(id)]);
    const v = new StreamView(meta);
    for (const r of rows) v.addRow(r);
    v.setCommit({ knobs, updates, state: policy.state, lastSeq: policy.lastSeq });
    v.position = position;
    const before = this.stale.get(id);
    if (before) {
      this.stale.delete(id);
      v.lambdas.unshift(...before.lambdas.filter((l) => !v.lambdas.some((m) => m.seq === l.seq)));
      v.heardAt = before.heardAt;
    }
    this.views.set(id, v);
    return v;
  }

  private onEvent(e: StreamEvent): void {
    const prev = this.chains.get(e.streamId) ?? Promise.resolve();
    const next = prev
      .then(() => this.apply(e))
      .catch((err: unknown) => this.opts.log?.(`dashboard: reading stream ${e.streamId} failed: ${(err as Error).message}`, { level: 'warn', stream: e.streamId }));
    this.chains.set(e.streamId, next);
    void next.finally(() => {
      if (this.chains.get(e.streamId) === next) this.chains.delete(e.streamId);
    });
  }

  private async apply(e: StreamEvent): Promise<void> {
    const s = this.src.streams;
    const known = this.views.get(e.streamId);
    if (!known) {
      // A stream this server has not seen: its first read holds this announcement already.
      const v = await this.view(e.streamId);
      if (!v) return;
      v.heardAt = Date.now();
      this.broadcast({ type: 'stream', id: e.streamId, summary: v.summary(), added: true });
      return;
    }
    known.heardAt = Date.now();
    if (e.kind === 'row') {
      const [row, meta, position] = await Promise.all([s.row(e.streamId, e.seq), s.meta(e.streamId), s.ingestPosition(e.streamId)]);
      if (meta) known.meta = meta;
      known.position = position;
      const added = row ? known.addRow(row) : undefined;
      this.broadcast({ type: 'stream', id: e.streamId, summary: known.summary(), ...(added ? { point: added.point, ...(added.failure ? { failure: added.failure } : {}) } : {}) });
      return;
    }
    const [knobs, updates, policy, position] = await Promise.all([s.currentKnobs(e.streamId), s.updates(e.streamId), s.policyState(e.streamId), s.ingestPosition(e.streamId)]);
    known.position = position;
    const c = known.setCommit({ knobs, updates, state: policy.state, lastSeq: policy.lastSeq });
    this.broadcast({ type: 'stream', id: e.streamId, summary: known.summary(), ...(c.updates.length > 0 ? { updates: c.updates } : {}), ...(c.lambda ? { lambda: c.lambda } : {}) });
  }

  /** Announcements were lost (the subscriber reconnected): forget what was read, pages reload. */
  private resync(): void {
    this.stale = new Map([...this.stale, ...this.views]);
    this.views = new Map();
    this.opts.log?.('dashboard: Redis subscription re-established; reloading streams');
    this.broadcast({ type: 'resync' });
  }
}
