import type { Worker } from 'bullmq';
import type { Config } from '../src/config/config.js';
import { sweepTempDirs } from '../src/media/temp-dir.js';
import { Coordinator } from '../workers/coordinator/coordinator.js';
import { FleetRegister } from '../src/queue/fleet-register.js';
import { startCoordinatorWorker } from '../workers/coordinator/results-worker.js';
import { startIngestJobWorker } from '../workers/ingest/ingest-jobs-worker.js';
import { streamDefaults } from '../workers/ingest/stream-options.js';
import { startInferenceWorker } from '../workers/inference/segments-worker.js';
import { createRuntime, loadModel, segmentProcessor, type Runtime } from './runtime.js';
import type { Log } from '../src/log.js';
import type { Metrics } from './metrics/metrics.js';
import { observedSink } from './metrics/observed-sink.js';

export type RoleName = 'worker' | 'coordinator' | 'ingest';

export interface RunningRoles {
  runtime: Runtime;
  /**
   * Closes the roles: archive ingests drain, jobs in flight finish. `force` does not wait for
   * them (a Redis that lost its state cannot take their outcome anyway).
   */
  close(opts?: { force?: boolean }): Promise<void>;
}

/** Archived streams each hold an ingest job for their whole length; this many run at once. */
const ARCHIVE_STREAMS_AT_ONCE = 4;

/**
 * Starts roles on one runtime: `worker` (inference), `coordinator`, `ingest` (archived-footage
 * jobs). `up` is all three in one process; `run` adds its own streams to worker + coordinator.
 */
export interface RoleOptions {
  log?: Log;
  gradients?: boolean;
  model?: string;
  /** Where the roles count what they do (the process's /metrics). */
  metrics?: Metrics;
}

export async function startRoles(config: Config, roles: RoleName[], opts: RoleOptions = {}): Promise<RunningRoles> {
  const log: Log = opts.log ?? ((l: string) => console.error(l));
  const rt = await createRuntime(config);
  const metrics = opts.metrics;
  // Every segment an ingest of this process queues (archive jobs, and `run`'s own streams).
  if (metrics) rt.segments = observedSink(rt.segments, (job) => metrics.segmentQueued(job));
  // Temp dirs of a process of this machine that was SIGKILLed (it could not clean up).
  const swept = await sweepTempDirs();
  if (swept > 0) log(`removed ${swept} temp dir(s) left by processes that are gone`);
  const workers: Worker[] = [];
  const closers: (() => Promise<void>)[] = [];
  const drains: (() => void)[] = [];
  const close = async (o: { force?: boolean } = {}) => {
    // Archive ingests stop after their segment in flight; then jobs in flight finish, then
    // sessions and connections are released.
    for (const drain of drains) drain();
    await Promise.all(workers.map((w) => w.close(o.force)));
    for (const c of closers) await c().catch(() => undefined);
    await rt.close();
  };
  try {
    if (roles.includes('worker')) {
      // A long-running worker must serve gradient-sampling streams that arrive at any time.
      const model = await loadModel(config, opts.model ?? config.model, log, { gradients: opts.gradients ?? true });
      closers.push(() => model.pool.close());
      const processor = segmentProcessor(rt, model);
      const who = { model: model.spec.name, provider: model.providers[0] ?? 'cpu' };
      const results = metrics ? observedSink(rt.results, (r) => metrics.segmentResult(r, who)) : rt.results;
      const failures = metrics ? observedSink(rt.failures, (f) => metrics.segmentFailure(f)) : rt.failures;
      workers.push(startInferenceWorker({ connection: rt.connection, prefix: config.queuePrefix, queue: rt.queueNames.segments, concurrency: config.workerConcurrency, timings: config.queueTimings, processor, results, failures, log }));
      log(`inference worker: model ${model.spec.name} on ${model.providers.join(',')}`);
    }
    if (roles.includes('coordinator')) {
      workers.push(startCoordinatorWorker({ connection: rt.connection, prefix: config.queuePrefix, queue: rt.queueNames.results, coordinator: new Coordinator(rt.streams, log, metrics ? (step) => metrics.policyStep(step) : undefined, new FleetRegister(rt.redis, config.queuePrefix)), timings: config.queueTimings, log }));
      log('coordinator: consuming results');
    }
    if (roles.includes('ingest')) {
      const deps = { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, modelsDir: config.modelsDir, defaults: streamDefaults(config), localDirs: config.ingestLocalDirs, log };
      const ingest = startIngestJobWorker({ connection: rt.connection, prefix: config.queuePrefix, queue: rt.queueNames.ingest, concurrency: ARCHIVE_STREAMS_AT_ONCE, timings: config.queueTimings, deps });
      workers.push(ingest.worker);
      drains.push(ingest.drain);
      log('ingest: taking archived-footage jobs');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { runtime: rt, close };
}
