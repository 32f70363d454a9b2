import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { policyFromSpec } from '../src/adapt/policies.js';
import { resolveModel } from '../src/models/catalog.js';
import { ingestJobId } from '../src/queue/names.js';
import { streamIdFor } from '../src/records/stream-id.js';
import { parseS3Url } from '../src/storage/keys.js';
import type { StreamRequest } from '../workers/ingest/stream-options.js';
import type { Runtime } from './runtime.js';

export const VIDEO_EXTENSIONS = ['.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.ts', '.mpg', '.mpeg', '.flv'];

export interface EnqueuedStream {
  streamId: string;
  source: string;
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
export interface ArchiveOptions extends Pick<StreamRequest, 'policy' | 'model' | 'spaces' | 'auditEvery' | 'probeEvery'> {
  log?: (l: string) => void;
}

/**
 * Archived footage → one ingest job per video. Local files are uploaded to the store first
 * (workers may run elsewhere); s3:// prefixes are listed in place.
 */
export async function enqueueArchives(rt: Runtime, inputs: string[], opts: ArchiveOptions = {}): Promise<EnqueuedStream[]> {
  const policy = opts.policy ?? rt.config.policy;
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
    if (!source.startsWith('s3://')) {
      const key = `archive/${streamId}/${path.basename(source)}`;
      await rt.store.put(key, await readFile(source), 'video/*');
      source = `s3://${rt.store.bucket}/${key}`;
    }
    await rt.ingestJobs.add({ streamId, source, policy, model, spaces: opts.spaces, auditEvery: opts.auditEvery, probeEvery: opts.probeEvery });
    opts.log?.(`enqueued ${s.name} as stream ${streamId}`);
    out.push({ streamId, source });
  }
  return out;
}

export interface ArchiveProgress {
  done: number;
  total: number | undefined;
  /** Streams with nothing left to wait for: every segment has its row, or the ingest job failed. */
  finished: number;
  /** Ingest jobs that failed for good, with the reason BullMQ kept. */
  failed: { streamId: string; reason: string }[];
}

/** Segments done and (where known) expected over the given streams, and ingest jobs that failed. */
export async function archiveProgress(rt: Runtime, streams: EnqueuedStream[]): Promise<ArchiveProgress> {
  const out: ArchiveProgress = { done: 0, total: 0, finished: 0, failed: [] };
  let known = true;
  for (const s of streams) {
    const rows = await rt.streams.rowCount(s.streamId);
    const meta = await rt.streams.meta(s.streamId);
    out.done += rows;
    const job = await rt.queues.ingest.getJob(ingestJobId(s.streamId));
    if (job && (await job.isFailed())) {
      out.failed.push({ streamId: s.streamId, reason: job.failedReason || 'no reason recorded' });
      out.finished++;
      if (meta?.totalSegments === undefined) known = false;
      continue;
    }
    if (meta?.totalSegments === undefined) known = false;
    else {
      out.total = out.total! + meta.totalSegments;
      if (rows >= meta.totalSegments) out.finished++;
    }
  }
  if (!known) out.total = undefined;
  return out;
}
