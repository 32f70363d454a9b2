import type { Config } from '../src/config/config.js';
import type { IngestSummary } from '../workers/ingest/ingest.js';
import { startStream } from '../workers/ingest/start-stream.js';
import { streamDefaults, type StreamRequest } from '../workers/ingest/stream-options.js';
import { createRuntime, type Runtime } from './runtime.js';
import type { Log } from '../src/log.js';
import type { Metrics } from './metrics/metrics.js';
import { observedSink } from './metrics/observed-sink.js';

/** `oneadapt ingest`: one source (file or live URL) as a stream, against configured Redis and S3. */
export async function ingestSource(config: Config, req: StreamRequest, opts: { signal?: AbortSignal; log?: Log; metrics?: Metrics; onRuntime?: (rt: Runtime) => void } = {}): Promise<IngestSummary & { streamId: string }> {
  const rt = await createRuntime(config);
  opts.onRuntime?.(rt);
  const metrics = opts.metrics;
  try {
    const segments = metrics ? observedSink(rt.segments, (job) => metrics.segmentQueued(job)) : rt.segments;
    const deps = { media: rt.media, store: rt.store, streams: rt.streams, segments, modelsDir: config.modelsDir, log: opts.log };
    // Stopped by the caller, or by a Redis that lost its state under the ingest.
    const lost = new AbortController();
    rt.watchState((err) => lost.abort(err));
    const signal = opts.signal ? AbortSignal.any([opts.signal, lost.signal]) : lost.signal;
    const stream = await startStream(deps, streamDefaults(config), req, { signal });
    try {
      return { ...(await stream.done), streamId: stream.streamId };
    } catch (err) {
      if (lost.signal.aborted) throw lost.signal.reason as Error;
      throw err;
    }
  } finally {
    await rt.close();
  }
}
