import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { PermanentError } from '../../src/errors.js';
import type { IngestJob } from '../../src/records/ingest-job.js';
import { isUrl } from '../../src/media/media-info.js';
import { makeTempDir } from '../../src/media/temp-dir.js';
import { redactUrls } from '../../src/redact.js';
import { parseS3Url } from '../../src/storage/keys.js';
import { startStream, type StartStreamDeps } from './start-stream.js';
import type { StreamDefaults } from './stream-options.js';

/** An archive source the ingest may not read (another bucket than the configured one). */
export class ForeignSourceError extends PermanentError {
  override name = 'ForeignSourceError';
}

export interface IngestJobDeps extends StartStreamDeps {
  defaults: StreamDefaults;
  /** Local folders archive jobs may read (ONEADAPT_INGEST_LOCAL_DIRS); none: the bucket only. */
  localDirs: readonly string[];
}

/**
 * What an archive job may read: an object in the configured bucket, or a file under one of the
 * allowed folders. Anyone who can add a job must not make the ingest read any file or URL.
 */
function assertAllowedSource(deps: IngestJobDeps, source: string): void {
  if (source.startsWith('s3://')) return;
  const file = path.resolve(source);
  const allowed = deps.localDirs.some((dir) => file.startsWith(path.resolve(dir) + path.sep));
  if (!allowed || isUrl(source)) {
    throw new ForeignSourceError(`archive jobs read s3://${deps.store.bucket}/… or files under ONEADAPT_INGEST_LOCAL_DIRS (${deps.localDirs.join(', ') || 'none set'}); got ${JSON.stringify(redactUrls(source))}`);
  }
}

/** Fetches an s3:// source from the store into a temp file (ffmpeg needs seekable input). */
async function localCopy(deps: IngestJobDeps, source: string): Promise<{ file: string; cleanup: () => Promise<void> }> {
  assertAllowedSource(deps, source);
  if (!source.startsWith('s3://')) return { file: source, cleanup: async () => undefined };
  const { bucket, prefix } = parseS3Url(source);
  if (bucket !== deps.store.bucket) throw new ForeignSourceError(`source ${source} is outside the configured bucket "${deps.store.bucket}"`);
  const dir = await makeTempDir('ingest');
  const file = path.join(dir, path.basename(prefix) || 'video');
  await pipeline(Readable.from([await deps.store.get(prefix)]), createWriteStream(file));
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Archived footage: one job per file; segments wait for the previous update (deterministic). */
export async function processIngestJob(deps: IngestJobDeps, job: IngestJob, signal?: AbortSignal): Promise<{ segments: number }> {
  const { file, cleanup } = await localCopy(deps, job.source);
  try {
    const stream = await startStream(deps, deps.defaults, {
      source: file,
      origin: job.source,
      streamId: job.streamId,
      policy: job.policy,
      model: job.model,
      spaces: job.spaces,
      auditEvery: job.auditEvery,
      probeEvery: job.probeEvery,
      fleet: job.fleet,
      lockstep: true,
    }, { signal });
    const summary = await stream.done;
    return { segments: summary.segments };
  } finally {
    await cleanup();
  }
}
