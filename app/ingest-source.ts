import type { Config } from '../src/config/config.js';
import type { IngestSummary } from '../workers/ingest/ingest.js';
import { startStream } from '../workers/ingest/start-stream.js';
import { streamDefaults, type StreamRequest } from '../workers/ingest/stream-options.js';
import { createRuntime } from './runtime.js';

/** `oneadapt ingest`: one source (file or live URL) as a stream, against configured Redis and S3. */
export async function ingestSource(config: Config, req: StreamRequest, opts: { signal?: AbortSignal; log?: (l: string) => void } = {}): Promise<IngestSummary & { streamId: string }> {
  const rt = await createRuntime(config);
  try {
    const deps = { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, modelsDir: config.modelsDir, log: opts.log };
    const stream = await startStream(deps, streamDefaults(config), req, { signal: opts.signal });
    return { ...(await stream.done), streamId: stream.streamId };
  } finally {
    await rt.close();
  }
}
