import type { MediaPort, VideoInfo } from '../../src/media/types.js';
import { isUrl } from '../../src/media/media-info.js';
import { resolveModel } from '../../src/models/catalog.js';
import type { StreamMeta } from '../../src/records/stream.js';
import { runIngest, type IngestDeps, type IngestRunOptions, type IngestSummary } from './ingest.js';
import { compileStream, type CompiledStream, type StreamDefaults, type StreamRequest } from './stream-options.js';

export interface StartStreamDeps extends IngestDeps {
  media: MediaPort;
  modelsDir?: string;
}

export interface StartedStream {
  streamId: string;
  meta: StreamMeta;
  compiled: CompiledStream;
  /** Settles when the ingest has cut, encoded and enqueued the whole source (or failed). */
  done: Promise<IngestSummary>;
}

/**
 * The one way a stream starts — `run`, `ingest` and archive jobs all come here: probe the
 * source, compile the request against the defaults, register the stream with its initial
 * knobs and policy state, then ingest. Returns once the stream is registered.
 */
export async function startStream(
  deps: StartStreamDeps,
  defaults: StreamDefaults,
  req: StreamRequest,
  run: IngestRunOptions & { /** The source's probe, when the caller already has it (opened once). */ info?: VideoInfo } = {},
): Promise<StartedStream> {
  const model = resolveModel(req.model ?? defaults.model, deps.modelsDir);
  const info = run.info ?? (await deps.media.probe(req.source));
  const compiled = compileStream(req, defaults, info, model, isUrl(req.source));
  await deps.streams.register(compiled.meta, compiled.initialKnobs, compiled.initial.state);
  deps.log?.(`stream ${compiled.meta.streamId}: ${compiled.meta.source} (${info.width}x${info.height}), policy ${compiled.meta.policy}`, { stream: compiled.meta.streamId });
  const done = runIngest(deps, compiled.plan, { refEvery: run.refEvery, signal: run.signal });
  // Callers await `done` later; until then a failure must not count as unhandled.
  done.catch(() => undefined);
  return { streamId: compiled.meta.streamId, meta: compiled.meta, compiled, done };
}
