import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { policyFromSpec } from '../src/adapt/policies.js';
import { resolveModel } from '../src/models/catalog.js';
import { ingestJobId } from '../src/queue/names.js';
import { streamIdFor } from '../src/records/stream-id.js';
import { parseS3Url } from '../src/storage/keys.js';
import { knobsLabel } from '../src/knobs/encode.js';
import { buildReport, type Report } from '../src/report/report.js';
import { expectedSegments, FLEET_DEFAULT_POLICY, type StreamRequest } from '../workers/ingest/stream-options.js';
import type { Runtime } from './runtime.js';

export const VIDEO_EXTENSIONS = ['.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.ts', '.mpg', '.mpeg', '.flv'];

export interface EnqueuedStream {
  streamId: string;
  source: string;
  /** Segments the video should give, from its duration (local files; s3:// ones are probed by the ingest). */
  expectedSegments?: number;
}

async function expandLocal(input: string): Promise<string[]> {
  let st;
  try {
    st = await stat(input);
  } catch {
    throw new Error(`not found: ${input} (expected a video file, a folder of videos or s3://bucket/prefix)`);
  }
  if (st.isFile()) return [path.resolve(input)];
  const out: string[] = [];
  for (const entry of await readdir(input, { withFileTypes: true })) {
    const p = path.join(input, entry.name);
    if (entry.isDirectory()) out.push(...(await expandLocal(p)));
    else if (VIDEO_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) out.push(path.resolve(p));
  }
  return out.sort();
}

/** What every archived stream is started with; unset fields take the configured defaults. */
export interface ArchiveOptions extends Pick<StreamRequest, 'policy' | 'model' | 'spaces' | 'auditEvery' | 'probeEvery' | 'fleet'> {
  log?: (l: string) => void;
}

/**
 * Archived footage → one ingest job per video. Local files are uploaded to the store first
 * (workers may run elsewhere); s3:// prefixes are listed in place.
 */
export async function enqueueArchives(rt: Runtime, inputs: string[], opts: ArchiveOptions = {}): Promise<EnqueuedStream[]> {
  const policy = opts.policy ?? (opts.fleet ? FLEET_DEFAULT_POLICY : rt.config.policy);
  const model = opts.model ?? rt.config.model;
  // Fail here, not in the ingest job: a bad policy or model would fail every stream.
  policyFromSpec(policy);
  resolveModel(model, rt.config.modelsDir);
  const sources: { source: string; name: string }[] = [];
  for (const input of inputs) {
    if (input.startsWith('s3://')) {
      const { bucket, prefix } = parseS3Url(input);
      if (bucket !== rt.store.bucket) throw new Error(`${input}: workers read the configured bucket "${rt.store.bucket}"; set S3_BUCKET=${bucket}`);
      for await (const key of rt.store.list(prefix)) {
        if (VIDEO_EXTENSIONS.includes(path.extname(key).toLowerCase())) sources.push({ source: `s3://${bucket}/${key}`, name: key });
      }
    } else {
      for (const file of await expandLocal(input)) sources.push({ source: file, name: file });
    }
  }
  if (sources.length === 0) throw new Error(`no videos found in ${inputs.join(', ')} (extensions: ${VIDEO_EXTENSIONS.join(' ')})`);

  const out: EnqueuedStream[] = [];
  for (const s of sources) {
    const streamId = streamIdFor(s.name);
    let source = s.source;
    let expected: number | undefined;
    if (!source.startsWith('s3://')) {
      // A file that cannot be probed is still enqueued: its ingest job fails with the reason.
      const info = await rt.media.probe(source).catch(() => undefined);
      if (info) expected = expectedSegments(info.durationS, rt.config.segmentSeconds, rt.config.analysisFps);
      const key = `archive/${streamId}/${path.basename(source)}`;
      await rt.store.put(key, await readFile(source), 'video/*');
      source = `s3://${rt.store.bucket}/${key}`;
    }
    await rt.ingestJobs.add({ streamId, source, policy, model, spaces: opts.spaces, auditEvery: opts.auditEvery, probeEvery: opts.probeEvery, ...(opts.fleet ? { fleet: opts.fleet } : {}) });
    opts.log?.(`enqueued ${s.name} as stream ${streamId}${expected !== undefined ? ` (≈${expected} segments)` : ''}`);
    out.push({ streamId, source, ...(expected !== undefined ? { expectedSegments: expected } : {}) });
  }
  return out;
}

export type IngestState = 'queued' | 'ingesting' | 'ingested' | 'failed';

/** One enqueued stream as `enqueue --wait` sees it. */
export interface StreamProgress {
  streamId: string;
  source: string;
  /** Its ingest job: waiting for an ingest, being cut, cut whole, or failed for good. */
  state: IngestState;
  /**
   * Segments it has: exact once the ingest has cut the whole source, before that the estimate
   * from the video's duration; undefined while neither is known.
   */
  segments: number | undefined;
  exact: boolean;
  /** Segments cut, encoded and queued for the workers. */
  ingested: number;
  /** Segments with a report row (analysed, or failed with a reason). */
  analysed: number;
  /** Nothing left to wait for: every segment has its row, or the ingest job failed. */
  finished: boolean;
  /** Why the ingest job failed, as BullMQ kept it. */
  failure?: string;
}

export interface ArchiveProgress {
  streams: StreamProgress[];
  /** Segments analysed over all the streams. */
  done: number;
  ingested: number;
  /** Segments of all the streams; undefined while any stream's count is unknown. */
  total: number | undefined;
  /** The segments of the streams whose count is known (all of `total` when it is set). */
  known: number;
  /** Every stream's count is exact (none is an estimate). */
  exact: boolean;
  finished: number;
  /** Ingest jobs that failed for good, with the reason BullMQ kept. */
  failed: { streamId: string; reason: string }[];
}

async function streamProgress(rt: Runtime, s: EnqueuedStream): Promise<StreamProgress> {
  const [meta, analysed, position, job] = await Promise.all([
    rt.streams.meta(s.streamId),
    rt.streams.rowCount(s.streamId),
    rt.streams.ingestPosition(s.streamId),
    rt.queues.ingest.getJob(ingestJobId(s.streamId)),
  ]);
  const jobState = job ? await job.getState() : undefined;
  const exact = meta?.totalSegments !== undefined;
  const segments = meta?.totalSegments ?? meta?.expectedSegments ?? s.expectedSegments;
  // A row can land just before its segment is marked queued: what is analysed was ingested.
  const ingested = Math.max(position.enqueued + 1, analysed);
  const out: StreamProgress = { streamId: s.streamId, source: s.source, state: 'queued', segments, exact, ingested, analysed, finished: false };
  // A failed stream gives no more segments than it has rows for.
  if (jobState === 'failed') {
    // The job read above may predate its failure: read the reason now.
    const reason = (await rt.queues.ingest.getJob(ingestJobId(s.streamId)))?.failedReason;
    return { ...out, state: 'failed', segments: analysed, exact: true, finished: true, failure: reason || 'no reason recorded' };
  }
  if (exact || jobState === 'completed') out.state = 'ingested';
  else if (jobState === 'active') out.state = 'ingesting';
  out.finished = exact && analysed >= meta.totalSegments!;
  return out;
}

/**
 * Where the given streams are: per stream and summed, segments known, ingested and analysed,
 * and the ingest jobs that failed. Streams finished in `previous` are not read again.
 */
export async function archiveProgress(rt: Runtime, streams: EnqueuedStream[], previous?: ArchiveProgress): Promise<ArchiveProgress> {
  const before = new Map(previous?.streams.filter((p) => p.finished).map((p) => [p.streamId, p]));
  const per = await Promise.all(streams.map((s) => before.get(s.streamId) ?? streamProgress(rt, s)));
  const sum = (f: (p: StreamProgress) => number) => per.reduce((a, p) => a + f(p), 0);
  const unknown = per.some((p) => p.segments === undefined);
  return {
    streams: per,
    done: sum((p) => p.analysed),
    ingested: sum((p) => p.ingested),
    total: unknown ? undefined : sum((p) => p.segments!),
    known: sum((p) => p.segments ?? 0),
    exact: per.every((p) => p.exact),
    finished: per.filter((p) => p.finished).length,
    failed: per.filter((p) => p.state === 'failed').map((p) => ({ streamId: p.streamId, reason: p.failure! })),
  };
}

/** The report (docs/report.md) of every stream that was registered, from its rows and updates. */
export async function archiveReports(rt: Runtime, streams: EnqueuedStream[]): Promise<Report[]> {
  const reports: Report[] = [];
  for (const s of streams) {
    const meta = await rt.streams.meta(s.streamId);
    if (!meta) continue;
    const updates = (await rt.streams.updates(s.streamId)).map((u) => ({ version: u.version, validFromSeq: u.validFromSeq, afterSeq: u.afterSeq, knobs: knobsLabel(u.knobs) }));
    reports.push(
      buildReport({
        video: meta.source,
        streamId: s.streamId,
        policy: meta.policy,
        model: meta.model,
        sourceWidth: meta.sourceWidth,
        sourceHeight: meta.sourceHeight,
        spaces: meta.spaces,
        analysisFps: meta.analysisFps,
        rows: await rt.streams.rows(s.streamId),
        updates,
      }),
    );
  }
  return reports;
}
