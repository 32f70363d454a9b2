import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { UnrecoverableError, Worker, type ConnectionOptions, type Queue } from 'bullmq';
import { z } from 'zod';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { PolicyError } from '../../src/adapt/policy-error.js';
import { UnreadableVideoError } from '../../src/media/media-info.js';
import { analysisSize } from '../../src/models/analysis-size.js';
import { resolveModel, UnknownModelError } from '../../src/models/catalog.js';
import { encodedKnobs } from '../../src/knobs/encode.js';
import { KnobError, type KnobSpaces } from '../../src/knobs/space.js';
import type { MediaPort } from '../../src/media/types.js';
import { INGEST_QUEUE } from '../../src/queue/names.js';
import { streamIdSchema } from '../../src/queue/schemas.js';
import { jobPayload } from '../../src/queue/job-payload.js';
import type { StreamStore } from '../../src/queue/stream-register.js';
import { parseS3Url } from '../../src/storage/keys.js';
import type { ObjectStore } from '../../src/storage/types.js';
import { runIngest } from './ingest.js';

/** An archived file (local path, or s3://bucket/key in the configured store) to run as a stream. */
export const ingestJobSchema = z.object({
  streamId: streamIdSchema,
  source: z.string().min(1),
  policy: z.string().min(1),
  model: z.string().min(1),
});
export type IngestJob = z.infer<typeof ingestJobSchema>;

export interface IngestJobDeps {
  media: MediaPort;
  store: ObjectStore;
  streams: StreamStore;
  segments: Queue;
  spaces: KnobSpaces;
  segmentSeconds: number;
  analysisFps: number;
  probeEvery: number;
  modelsDir?: string;
  log?: (line: string) => void;
}

/** Fetches an s3:// source from the store into a temp file (ffmpeg needs seekable input). */
async function localCopy(deps: IngestJobDeps, source: string): Promise<{ file: string; cleanup: () => Promise<void> }> {
  if (!source.startsWith('s3://')) return { file: source, cleanup: async () => undefined };
  const { bucket, prefix } = parseS3Url(source);
  if (bucket !== deps.store.bucket) throw new UnrecoverableError(`source ${source} is outside the configured bucket "${deps.store.bucket}"`);
  const dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-ingest-'));
  const file = path.join(dir, path.basename(prefix) || 'video');
  await pipeline(Readable.from([await deps.store.get(prefix)]), createWriteStream(file));
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Archived footage: one job per file; segments wait for the previous update (deterministic). */
export async function processIngestJob(deps: IngestJobDeps, job: IngestJob): Promise<{ segments: number }> {
  const policy = policyFromSpec(job.policy);
  const { file, cleanup } = await localCopy(deps, job.source);
  try {
    const info = await deps.media.probe(file);
    const ctx = { spaces: deps.spaces, sourceWidth: info.width, sourceHeight: info.height };
    const initial = policy.initial(ctx);
    await deps.streams.register(
      {
        streamId: job.streamId,
        source: job.source,
        sourceWidth: info.width,
        sourceHeight: info.height,
        policy: job.policy,
        model: job.model,
        segmentSeconds: deps.segmentSeconds,
        analysisFps: deps.analysisFps,
      },
      encodedKnobs(initial.setting, info.width, info.height),
      initial.state,
    );
    const summary = await runIngest(deps, {
      streamId: job.streamId,
      source: file,
      sourceWidth: info.width,
      sourceHeight: info.height,
      spaces: deps.spaces,
      segmentSeconds: deps.segmentSeconds,
      analysisFps: deps.analysisFps,
      lockstep: true,
      auditEvery: 0,
      probeEvery: policy.needsGradients ? deps.probeEvery : 0,
      probeKnobs: policy.probedKnobs,
      analysisSize: analysisSize(resolveModel(job.model, deps.modelsDir), info.width, info.height),
    });
    return { segments: summary.segments };
  } finally {
    await cleanup();
  }
}

function isPermanent(err: unknown): boolean {
  return (
    err instanceof UnreadableVideoError ||
    err instanceof PolicyError ||
    err instanceof KnobError ||
    err instanceof UnknownModelError ||
    (err instanceof Error && err.message.startsWith('video not found'))
  );
}

export function startIngestJobWorker(opts: { connection: ConnectionOptions; prefix: string; concurrency: number; deps: IngestJobDeps }): Worker {
  const worker = new Worker(
    INGEST_QUEUE,
    async (bullJob) => {
      const job = jobPayload(ingestJobSchema, bullJob.data, 'ingest');
      try {
        return await processIngestJob(opts.deps, job);
      } catch (err) {
        // Unreadable files and bad policies will not get better on retry.
        if (isPermanent(err)) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    },
    // An archived stream waits on its own updates: its lock must outlive the long job.
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency, lockDuration: 120_000 },
  );
  worker.on('error', (err) => opts.deps.log?.(`ingest worker: ${err.message}`));
  return worker;
}
