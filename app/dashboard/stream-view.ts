import type { KnobUpdate, KnobUpdateRecord, StreamMeta } from '../../src/queue/stream-register.js';
import type { SegmentRow } from '../../src/records/segment-row.js';
import { redactUrls } from '../../src/redact.js';

/** One segment on a stream's timelines. Knobs as encoded; the figures null on a failed segment. */
export interface TimelinePoint {
  seq: number;
  qp: number;
  /** Scale of the source (the encoded width over the source's). */
  resolution: number;
  fps: number;
  roi: number;
  knobVersion: number;
  /** What the segment cost, its audit frame included. */
  kbps: number | null;
  bytes: number;
  refBytes: number | null;
  proxy: number | null;
  /** The policy's audit F1 where it asked for one, else F1 against the reference encode (audited segments). */
  f1: number | null;
  failed: boolean;
}

export interface FailureView {
  seq: number;
  knobs: SegmentRow['knobs'];
  error: string;
}

export interface UpdateView {
  version: number;
  validFromSeq: number;
  afterSeq: number;
  knobs: { qp: number; resolution: number; fps: number; roi: number };
  /** The update asked for an audit frame (target mode). */
  audit: boolean;
}

export interface LambdaPoint {
  /** The result after which the policy held this price. */
  seq: number;
  lambda: number;
}

export interface KnobsView {
  qp: number;
  resolution: number;
  /** The encoded size, e.g. `160x120`. */
  size: string;
  fps: number;
  roi: number;
  version: number;
  validFromSeq: number;
}

/** done: every segment reported; running: news within a minute; waiting: no row yet; idle: otherwise. */
export type StreamState = 'waiting' | 'running' | 'idle' | 'done';

/** A row of `GET /api/streams`. */
export interface StreamSummary {
  id: string;
  source: string;
  policy: string;
  /** `target-f1=0.9`, `budget-kbps=200`, or null for a policy with neither. */
  target: string | null;
  model: string;
  state: StreamState;
  knobs: KnobsView | null;
  segmentsDone: number;
  segmentsFailed: number;
  totalSegments: number | null;
  /** Mean kbit/s of the last RECENT processed segments, audits included. */
  kbps: number | null;
  /** Bytes sent ÷ the reference encode's bytes, over the segments with a reference measured. */
  vsRef: number | null;
  proxy: number | null;
  lastF1: number | null;
  lastF1Seq: number | null;
  /** The price λ of target and budget modes (policy state). */
  lambda: number | null;
  lastSeq: number | null;
  /** Segments the ingest has cut that have no row yet, and the seconds of source they hold. */
  lagSegments: number | null;
  lagS: number | null;
  updates: number;
  /** Milliseconds since this server last heard from the stream (null: not since it started). */
  quietMs: number | null;
}

/** Segments the summary's kbit/s averages over. */
const RECENT = 10;
/** A stream with nothing new for this long, not finished, is shown `idle`. */
const IDLE_MS = 60_000;
/** Timeline points kept per stream; older ones fall off the charts (the counts keep them). */
export const MAX_POINTS = 5000;

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** `W x H` of a report row → the scale of the source's width. */
function scaleOf(size: string, sourceWidth: number): number {
  const w = Number(size.split('x')[0]);
  return Number.isFinite(w) && sourceWidth > 0 ? round(w / sourceWidth, 2) : 1;
}

export function pointOf(row: SegmentRow, meta: Pick<StreamMeta, 'sourceWidth' | 'analysisFps'>): TimelinePoint {
  const failed = row.error !== undefined;
  const seconds = row.slots / meta.analysisFps;
  const bytes = row.bytes + (row.auditBytes ?? 0);
  return {
    seq: row.seq,
    qp: row.knobs.qp,
    resolution: scaleOf(row.knobs.resolution, meta.sourceWidth),
    fps: row.knobs.fps,
    roi: row.knobs.roi,
    knobVersion: row.knobVersion,
    kbps: failed || !(seconds > 0) ? null : round((bytes * 8) / 1000 / seconds, 2),
    bytes,
    refBytes: row.refBytes,
    proxy: failed ? null : round(row.proxy, 4),
    f1: failed ? null : (row.auditF1 ?? row.f1 ?? null),
    failed,
  };
}

export function failureOf(row: SegmentRow): FailureView | undefined {
  return row.error === undefined ? undefined : { seq: row.seq, knobs: row.knobs, error: redactUrls(row.error) };
}

export function updateOf(u: KnobUpdateRecord): UpdateView {
  return { version: u.version, validFromSeq: u.validFromSeq, afterSeq: u.afterSeq, knobs: { qp: u.knobs.qp, resolution: u.knobs.resolution, fps: u.knobs.fps, roi: u.knobs.roi }, audit: u.knobs.audit === true };
}

export function targetOf(policy: string): string | null {
  return /(target-f1|budget-kbps)=([0-9.eE+-]+)/.exec(policy)?.[0] ?? null;
}

/** λ from a policy state, where the policy keeps one (`logLambda`, target and budget modes). */
export function lambdaOf(state: unknown): number | null {
  const log = typeof state === 'object' && state !== null ? (state as { logLambda?: unknown }).logLambda : undefined;
  return typeof log === 'number' && Number.isFinite(log) ? Math.exp(log) : null;
}

/** Metadata as the page may see it: a source URL loses its password. */
export function metaView(meta: StreamMeta): StreamMeta {
  return { ...meta, source: redactUrls(meta.source) };
}

/**
 * What the dashboard keeps of one stream in memory, fed by the stream's announcements: its
 * timeline points, failures, updates and price history, and running counts. Every figure comes
 * from Redis records; λ has no record per segment, so its history is what this server saw.
 */
export class StreamView {
  meta: StreamMeta;
  knobs: KnobUpdate | undefined;
  updates: KnobUpdateRecord[] = [];
  state: unknown;
  lastConsumed = -1;
  position = { claimed: -1, enqueued: -1 };
  readonly lambdas: LambdaPoint[] = [];
  /** When this server last heard from the stream (an announcement, not a load). */
  heardAt: number | undefined;

  private readonly points = new Map<number, TimelinePoint>();
  private readonly failures = new Map<number, FailureView>();
  /** Every seq with a row, failed or not: counts survive points falling off. */
  private readonly seqs = new Map<number, boolean>();
  private sentBytes = 0;
  private refBytes = 0;

  constructor(meta: StreamMeta) {
    this.meta = meta;
  }

  /** Adds a recorded row; the new point, or undefined when the row was already here. */
  addRow(row: SegmentRow): { point: TimelinePoint; failure?: FailureView } | undefined {
    if (this.seqs.has(row.seq)) return undefined;
    const point = pointOf(row, this.meta);
    this.seqs.set(row.seq, point.failed);
    if (point.refBytes !== null) {
      this.sentBytes += point.bytes;
      this.refBytes += point.refBytes;
    }
    this.points.set(row.seq, point);
    if (this.points.size > MAX_POINTS) this.points.delete(Math.min(...this.points.keys()));
    const failure = failureOf(row);
    if (failure) {
      this.failures.set(row.seq, failure);
      if (this.failures.size > MAX_POINTS) this.failures.delete(Math.min(...this.failures.keys()));
    }
    return { point, failure };
  }

  /** Takes a commit's outcome; the updates it added and the price it left, if new. */
  setCommit(c: { knobs: KnobUpdate | undefined; updates: KnobUpdateRecord[]; state: unknown; lastSeq: number }): { updates: UpdateView[]; lambda?: LambdaPoint } {
    const known = this.updates.length;
    this.knobs = c.knobs;
    this.updates = c.updates;
    this.state = c.state;
    const fresh = c.updates.slice(known).map(updateOf);
    let lambda: LambdaPoint | undefined;
    const l = lambdaOf(c.state);
    if (l !== null && c.lastSeq > this.lastConsumed) {
      lambda = { seq: c.lastSeq, lambda: l };
      this.lambdas.push(lambda);
      if (this.lambdas.length > MAX_POINTS) this.lambdas.shift();
    }
    this.lastConsumed = Math.max(this.lastConsumed, c.lastSeq);
    return { updates: fresh, lambda };
  }

  timeline(): TimelinePoint[] {
    return [...this.points.values()].sort((a, b) => a.seq - b.seq);
  }

  failureList(): FailureView[] {
    return [...this.failures.values()].sort((a, b) => a.seq - b.seq);
  }

  summary(now = Date.now()): StreamSummary {
    const points = this.timeline();
    const failed = [...this.seqs.values()].filter(Boolean).length;
    const done = this.seqs.size - failed;
    const processed = points.filter((p) => !p.failed);
    const recent = processed.slice(-RECENT).filter((p) => p.kbps !== null);
    const withF1 = [...points].reverse().find((p) => p.f1 !== null);
    const last = points.at(-1);
    const k = this.knobs?.knobs;
    const total = this.meta.totalSegments ?? null;
    const reported = this.seqs.size;
    const lag = this.position.claimed >= 0 ? Math.max(0, this.position.claimed + 1 - reported) : null;
    const quietMs = this.heardAt === undefined ? null : now - this.heardAt;
    // Running: news within the last minute; a stream loaded at this server's start and silent since is idle.
    const state: StreamState = total !== null && reported >= total ? 'done' : quietMs !== null && quietMs <= IDLE_MS ? 'running' : reported === 0 ? 'waiting' : 'idle';
    return {
      id: this.meta.streamId,
      source: redactUrls(this.meta.source),
      policy: this.meta.policy,
      target: targetOf(this.meta.policy),
      model: this.meta.model,
      state,
      knobs: k && this.knobs ? { qp: k.qp, resolution: k.resolution, size: `${k.width}x${k.height}`, fps: k.fps, roi: k.roi, version: this.knobs.version, validFromSeq: this.knobs.validFromSeq } : null,
      segmentsDone: done,
      segmentsFailed: failed,
      totalSegments: total,
      kbps: recent.length > 0 ? round(recent.reduce((s, p) => s + (p.kbps ?? 0), 0) / recent.length, 1) : null,
      vsRef: this.refBytes > 0 ? round(this.sentBytes / this.refBytes, 3) : null,
      proxy: processed.at(-1)?.proxy ?? null,
      lastF1: withF1?.f1 ?? null,
      lastF1Seq: withF1?.seq ?? null,
      lambda: lambdaOf(this.state),
      lastSeq: last?.seq ?? null,
      lagSegments: lag,
      lagS: lag === null ? null : round(lag * this.meta.segmentSeconds, 1),
      updates: this.updates.length,
      quietMs,
    };
  }
}
