import { policyFromSpec } from '../src/adapt/policies.js';
import type { Config } from '../src/config/config.js';
import { encodedKnobs } from '../src/knobs/encode.js';
import { DEFAULT_SPACES, type KnobSpaces } from '../src/knobs/space.js';
import { isUrl } from '../src/media/media-info.js';
import { analysisSize } from '../src/models/analysis-size.js';
import { resolveModel } from '../src/models/catalog.js';
import { runIngest, type IngestSummary } from '../workers/ingest/ingest.js';
import { createRuntime } from './runtime.js';
import { streamIdFor } from './run-job.js';

export interface LiveIngestOptions {
  source: string;
  streamId?: string;
  policy: string;
  /** Default: lockstep for files (deterministic), not for live URLs (they cannot wait). */
  lockstep?: boolean;
  auditEvery: number;
  spaces?: KnobSpaces;
  signal?: AbortSignal;
  log?: (l: string) => void;
}

/** The ingest role for one source: registers the stream, then cuts, encodes and enqueues. */
export async function ingestSource(config: Config, opts: LiveIngestOptions): Promise<IngestSummary & { streamId: string }> {
  const spaces = opts.spaces ?? DEFAULT_SPACES;
  const policy = policyFromSpec(opts.policy);
  const rt = await createRuntime(config);
  try {
    const info = await rt.media.probe(opts.source);
    const streamId = opts.streamId ?? streamIdFor(opts.source);
    const initial = policy.initial({ spaces, sourceWidth: info.width, sourceHeight: info.height });
    await rt.streams.register(
      {
        streamId,
        source: opts.source,
        sourceWidth: info.width,
        sourceHeight: info.height,
        policy: opts.policy,
        model: config.model,
        segmentSeconds: config.segmentSeconds,
        analysisFps: config.analysisFps,
      },
      encodedKnobs(initial.setting, info.width, info.height),
      initial.state,
    );
    opts.log?.(`ingest: stream ${streamId} from ${opts.source} (${info.width}x${info.height})`);
    const summary = await runIngest(
      { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, log: opts.log },
      {
        streamId,
        source: opts.source,
        sourceWidth: info.width,
        sourceHeight: info.height,
        spaces,
        segmentSeconds: config.segmentSeconds,
        analysisFps: config.analysisFps,
        lockstep: opts.lockstep ?? !isUrl(opts.source),
        auditEvery: opts.auditEvery,
        probeEvery: policy.needsGradients ? config.probeEvery : 0,
        probeKnobs: policy.probedKnobs,
        analysisSize: analysisSize(resolveModel(config.model, config.modelsDir), info.width, info.height),
        signal: opts.signal,
      },
    );
    return { ...summary, streamId };
  } finally {
    await rt.close();
  }
}
