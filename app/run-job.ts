import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Worker } from 'bullmq';
import { policyFromSpec } from '../src/adapt/policies.js';
import type { Config } from '../src/config/config.js';
import { encodedKnobs, knobsLabel } from '../src/knobs/encode.js';
import { DEFAULT_SPACES, type KnobSpaces } from '../src/knobs/space.js';
import { createFfmpegMedia } from '../src/media/ffmpeg.js';
import { analysisSize } from '../src/models/analysis-size.js';
import { resolveModel } from '../src/models/catalog.js';
import { buildReport, type Report, type ReportRow } from '../src/report/report.js';
import { runIngest } from '../workers/ingest/ingest.js';
import { Coordinator, startCoordinatorWorker } from '../workers/coordinator/coordinator.js';
import { startInferenceWorker } from '../workers/inference/worker.js';
import { ensureServices } from './embedded-services.js';
import { createRuntime, loadModel, segmentProcessor } from './runtime.js';

export interface RunOptions {
  videos: string[];
  policy: string;
  model?: string;
  spaces?: KnobSpaces;
  /** Each segment waits for the previous one's update (deterministic); default true. */
  lockstep?: boolean;
  /** Accuracy audit every N segments (1 = every segment, 0 = none). */
  auditEvery?: number;
  /** InputGrad probe every N segments when the policy adapts by gradient (default 1). */
  probeEvery?: number;
  maxSegments?: number;
  log?: (line: string) => void;
  onProgress?: (done: number, total: number | undefined) => void;
}

/** A stream id from a file name: readable, unique per run. */
export function streamIdFor(video: string): string {
  const base = path.basename(video).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 80) || 'stream';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

/**
 * The main job: runs each video through the full pipeline — ingest → S3 → BullMQ →
 * inference worker → coordinator → knob updates back to the ingest — and reports.
 */
export async function runVideos(baseConfig: Config, opts: RunOptions): Promise<Report[]> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const spaces = opts.spaces ?? DEFAULT_SPACES;
  const policy = policyFromSpec(opts.policy);
  const modelName = opts.model ?? baseConfig.model;
  resolveModel(modelName, baseConfig.modelsDir);
  const probeMedia = createFfmpegMedia({ ffmpegPath: baseConfig.ffmpegPath, ffprobePath: baseConfig.ffprobePath });
  const infos = await Promise.all(opts.videos.map((v) => probeMedia.probe(v)));

  const services = await ensureServices(baseConfig);
  const workers: Worker[] = [];
  const closers: (() => Promise<void>)[] = [() => services.close()];
  try {
    for (const s of services.started) log(`started ${s}`);
    const config = services.config;
    const rt = await createRuntime(config);
    closers.unshift(() => rt.close());
    const model = await loadModel(config, modelName, log, { gradients: policy.needsGradients });
    closers.unshift(() => model.pool.close());
    const processor = segmentProcessor(rt, model);
    workers.push(startInferenceWorker({ connection: rt.connection, prefix: config.queuePrefix, concurrency: config.workerConcurrency, processor, results: rt.results, log }));
    workers.push(startCoordinatorWorker({ connection: rt.connection, prefix: config.queuePrefix, coordinator: new Coordinator(rt.streams, spaces, log), log }));

    const streams = opts.videos.map((video, i) => ({ video, info: infos[i], streamId: streamIdFor(video) }));
    for (const s of streams) {
      const ctx = { spaces, sourceWidth: s.info.width, sourceHeight: s.info.height };
      const initial = policy.initial(ctx);
      await rt.streams.register(
        {
          streamId: s.streamId,
          source: s.video,
          sourceWidth: s.info.width,
          sourceHeight: s.info.height,
          policy: opts.policy,
          model: model.spec.name,
          segmentSeconds: config.segmentSeconds,
          analysisFps: config.analysisFps,
          spaces,
        },
        encodedKnobs(initial.setting, s.info.width, s.info.height),
        initial.state,
      );
    }

    const expected = streams.map((s) =>
      Number.isFinite(s.info.durationS)
        ? Math.min(opts.maxSegments ?? Infinity, Math.max(1, Math.ceil(Number((s.info.durationS / config.segmentSeconds).toFixed(6)))))
        : undefined,
    );
    const expectedTotal = expected.every((e) => e !== undefined) ? expected.reduce((a, b) => a! + b!, 0) : undefined;
    let stopProgress = false;
    const progress = (async () => {
      while (!stopProgress) {
        let done = 0;
        for (const s of streams) done += await rt.streams.rowCount(s.streamId);
        opts.onProgress?.(done, expectedTotal);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    try {
      await Promise.all(
        streams.map((s) =>
          runIngest(
            { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, log },
            {
              streamId: s.streamId,
              source: s.video,
              sourceWidth: s.info.width,
              sourceHeight: s.info.height,
              spaces,
              segmentSeconds: config.segmentSeconds,
              analysisFps: config.analysisFps,
              lockstep: opts.lockstep ?? true,
              auditEvery: opts.auditEvery ?? 1,
              probeEvery: policy.needsGradients ? (opts.probeEvery ?? 1) : 0,
              probeKnobs: policy.probedKnobs,
              analysisSize: analysisSize(model.spec, s.info.width, s.info.height),
              maxSegments: opts.maxSegments,
            },
          ),
        ),
      );
      // Every segment's row arrives, processed or failed with a reason.
      for (const s of streams) {
        const total = (await rt.streams.meta(s.streamId))?.totalSegments ?? 0;
        while ((await rt.streams.rowCount(s.streamId)) < total) await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      stopProgress = true;
      await progress;
    }

    const reports: Report[] = [];
    for (const s of streams) {
      const rows = await rt.streams.rows<ReportRow>(s.streamId);
      // Every update, also those that only move the region of interest (same levels, new mask).
      const updates = (await rt.streams.updates(s.streamId)).map((u) => ({ version: u.version, validFromSeq: u.validFromSeq, afterSeq: u.afterSeq, knobs: knobsLabel(u.knobs) }));
      reports.push(
        buildReport({
          video: s.video,
          streamId: s.streamId,
          policy: opts.policy,
          model: model.spec.name,
          sourceWidth: s.info.width,
          sourceHeight: s.info.height,
          spaces,
          analysisFps: config.analysisFps,
          rows,
          updates,
        }),
      );
    }
    return reports;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    for (const c of closers) await c().catch(() => undefined);
  }
}
