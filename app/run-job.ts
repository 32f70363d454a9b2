import { policyFromSpec } from '../src/adapt/policies.js';
import type { Config } from '../src/config/config.js';
import { knobsLabel } from '../src/knobs/encode.js';
import { resolveModel } from '../src/models/catalog.js';
import { buildReport, type Report } from '../src/report/report.js';
import { startStream, type StartedStream } from '../workers/ingest/start-stream.js';
import { streamDefaults, type StreamRequest } from '../workers/ingest/stream-options.js';
import { ensureServices } from './embedded-services.js';
import { startRoles } from './roles.js';
import { mediaFromConfig, type Runtime } from './runtime.js';
import type { Log } from '../src/log.js';
import type { Metrics } from './metrics/metrics.js';
import { waitForRows } from './stream-progress.js';
import { FleetRegister, type BudgetChange } from '../src/queue/fleet-register.js';

/** Every stream of a run is asked for alike: a StreamRequest without its source. */
export interface RunOptions extends Omit<StreamRequest, 'source' | 'origin' | 'streamId'> {
  videos: string[];
  /** Stops the run: the ingests stop cutting, the wait ends, everything started is closed. */
  signal?: AbortSignal;
  log?: Log;
  /** Where the run's roles count what they do (its /metrics). */
  metrics?: Metrics;
  /** The run's runtime, once its services and roles are up. */
  onRuntime?: (rt: Runtime) => void;
  onProgress?: (done: number, total: number | undefined) => void;
  /** With `fleet`: the fleet's budgets, set before the streams start. */
  fleetBudget?: BudgetChange;
  /**
   * Awaited with the reports before anything the run started is closed: its services, roles and
   * queues stay up meanwhile (a dashboard lingering after the run).
   */
  holdOpen?: (reports: Report[]) => Promise<void>;
}

/** The main job audits every segment: its report is about accuracy as much as bytes. */
const RUN_AUDIT_EVERY = 1;

/**
 * The main job: runs each video through the full pipeline — ingest → S3 → BullMQ →
 * inference worker → coordinator → knob updates back to the ingest — and reports.
 */
export async function runVideos(baseConfig: Config, opts: RunOptions): Promise<Report[]> {
  const log: Log = opts.log ?? ((l: string) => console.error(l));
  const defaults = streamDefaults(baseConfig);
  const policy = policyFromSpec(opts.policy ?? defaults.policy);
  // Bad input fails before any server starts.
  resolveModel(opts.model ?? defaults.model, baseConfig.modelsDir);
  const media = mediaFromConfig(baseConfig);
  const infos = await Promise.all(opts.videos.map((v) => media.probe(v)));
  const services = await ensureServices(baseConfig);
  const closers: (() => Promise<void>)[] = [() => services.close()];
  let stopReason: unknown;
  try {
    for (const s of services.started) log(`started ${s}`);
    const config = services.config;
    const roles = await startRoles(config, ['worker', 'coordinator'], { log, gradients: policy.needsGradients, model: opts.model, metrics: opts.metrics });
    closers.unshift(() => roles.close());
    const rt = roles.runtime;
    opts.onRuntime?.(rt);
    // Stopped by the caller, or by a Redis that lost its state under the run.
    const lost = new AbortController();
    rt.watchState((err) => lost.abort(err));
    const stop = opts.signal ? AbortSignal.any([opts.signal, lost.signal]) : lost.signal;
    stop.addEventListener('abort', () => (stopReason = stop.reason), { once: true });
    const deps = { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, modelsDir: config.modelsDir, log };
    const fleet = opts.fleet;
    const fleets = fleet ? new FleetRegister(rt.redis, config.queuePrefix) : undefined;
    if (fleet && fleets && opts.fleetBudget) await fleets.setBudget(fleet.name, opts.fleetBudget);
    const streams: StartedStream[] = [];
    for (const [i, video] of opts.videos.entries()) {
      streams.push(
        await startStream(deps, defaults, {
          source: video,
          policy: opts.policy,
          model: opts.model,
          spaces: opts.spaces,
          lockstep: opts.lockstep ?? true,
          auditEvery: opts.auditEvery ?? RUN_AUDIT_EVERY,
          probeEvery: opts.probeEvery,
          maxSegments: opts.maxSegments,
          fleet,
        }, { info: infos[i], signal: stop }),
      );
    }
    // A stream that is done leaves its fleet at once: the others get its share now, not after the timeout.
    const leaving = fleet && fleets
      ? streams.map((s) =>
          s.done
            .then(async () => {
              await waitForRows(rt, s.streamId, (await rt.streams.meta(s.streamId))?.totalSegments ?? 0, config.resultTimeoutMs, stop);
              await fleets.leave(fleet.name, s.streamId);
            })
            .catch(() => undefined),
        )
      : [];

    let stopProgress = false;
    const progress = (async () => {
      while (!stopProgress) {
        let done = 0;
        let total: number | undefined = 0;
        for (const s of streams) {
          done += await rt.streams.rowCount(s.streamId);
          const meta = await rt.streams.meta(s.streamId);
          total = meta?.totalSegments === undefined || total === undefined ? undefined : total + meta.totalSegments;
        }
        opts.onProgress?.(done, total);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    try {
      await Promise.all(streams.map((s) => s.done));
      await Promise.all(leaving);
      // Every segment's row arrives, processed or failed with a reason.
      for (const s of streams) {
        const total = (await rt.streams.meta(s.streamId))?.totalSegments ?? 0;
        await waitForRows(rt, s.streamId, total, config.resultTimeoutMs, stop);
      }
    } finally {
      stopProgress = true;
      await progress;
    }

    const reports: Report[] = [];
    for (const s of streams) {
      const rows = await rt.streams.rows(s.streamId);
      // Every update, also those that only move the region of interest (same levels, new mask).
      const updates = (await rt.streams.updates(s.streamId)).map((u) => ({ version: u.version, validFromSeq: u.validFromSeq, afterSeq: u.afterSeq, knobs: knobsLabel(u.knobs) }));
      reports.push(
        buildReport({
          video: s.meta.source,
          streamId: s.streamId,
          policy: s.meta.policy,
          model: s.meta.model,
          sourceWidth: s.meta.sourceWidth,
          sourceHeight: s.meta.sourceHeight,
          spaces: s.meta.spaces,
          analysisFps: s.meta.analysisFps,
          rows,
          updates,
        }),
      );
    }
    await opts.holdOpen?.(reports);
    return reports;
  } catch (err) {
    // Stopped: say why, not which wait the stop happened to cut short.
    if (stopReason instanceof Error) throw stopReason;
    throw err;
  } finally {
    for (const c of closers) await c().catch(() => undefined);
  }
}
