import type { Worker } from 'bullmq';
import type { Config } from '../src/config/config.js';
import { DEFAULT_SPACES, type KnobSpaces } from '../src/knobs/space.js';
import { Coordinator, startCoordinatorWorker } from '../workers/coordinator/coordinator.js';
import { startIngestJobWorker } from '../workers/ingest/ingest-jobs.js';
import { startInferenceWorker } from '../workers/inference/worker.js';
import { createRuntime, loadModel, segmentProcessor, type Runtime } from './runtime.js';

export type RoleName = 'worker' | 'coordinator' | 'ingest';

export interface RunningRoles {
  runtime: Runtime;
  close(): Promise<void>;
}

/**
 * Starts long-running roles against configured Redis and S3: `worker` (inference),
 * `coordinator`, `ingest` (archived-footage jobs). `up` is all three in one process.
 */
export async function startRoles(config: Config, roles: RoleName[], opts: { spaces?: KnobSpaces; log?: (l: string) => void } = {}): Promise<RunningRoles> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const spaces = opts.spaces ?? DEFAULT_SPACES;
  const rt = await createRuntime(config);
  const workers: Worker[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    if (roles.includes('worker')) {
      // Gradient-sampling streams may arrive at any time: the fused model is always ready.
      const model = await loadModel(config, config.model, log, { gradients: true });
      closers.push(() => model.pool.close());
      const processor = segmentProcessor(rt, model);
      workers.push(startInferenceWorker({ connection: rt.connection, prefix: config.queuePrefix, concurrency: config.workerConcurrency, processor, results: rt.results, log }));
      log(`inference worker: model ${model.spec.name} on ${model.providers.join(',')}`);
    }
    if (roles.includes('coordinator')) {
      workers.push(startCoordinatorWorker({ connection: rt.connection, prefix: config.queuePrefix, coordinator: new Coordinator(rt.streams, spaces, log), log }));
      log('coordinator: consuming results');
    }
    if (roles.includes('ingest')) {
      workers.push(
        startIngestJobWorker({
          connection: rt.connection,
          prefix: config.queuePrefix,
          concurrency: 4,
          deps: { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, spaces, segmentSeconds: config.segmentSeconds, analysisFps: config.analysisFps, probeEvery: config.probeEvery, modelsDir: config.modelsDir, log },
        }),
      );
      log('ingest: taking archived-footage jobs');
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.close()));
    for (const c of closers) await c();
    await rt.close();
    throw err;
  }
  return {
    runtime: rt,
    close: async () => {
      // Finish jobs in flight, then release sessions and connections.
      await Promise.all(workers.map((w) => w.close()));
      for (const c of closers) await c().catch(() => undefined);
      await rt.close();
    },
  };
}

/** Closes gracefully on SIGTERM/SIGINT (jobs in flight finish; a second signal exits). */
export function closeOnSignals(close: () => Promise<void>, log: (l: string) => void = (l) => console.error(l)): void {
  let closing = false;
  const onSignal = (sig: string) => {
    if (closing) process.exit(1);
    closing = true;
    log(`${sig}: closing`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`close failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
