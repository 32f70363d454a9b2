import { readFile } from 'node:fs/promises';
import { Queue, type ConnectionOptions } from 'bullmq';
import { buildFusedModel } from '../src/autodiff/index.js';
import type { Config } from '../src/config/config.js';
import { InferencePool } from '../src/onnx/pool.js';
import { createFfmpegMedia } from '../src/media/ffmpeg.js';
import type { MediaPort } from '../src/media/types.js';
import { resolveModel } from '../src/models/catalog.js';
import type { ModelSpec } from '../src/models/types.js';
import { assertRedisReachable, openRedis, redisTarget, type RedisClient } from '../src/queue/connection.js';
import { claimEpoch, watchEpoch, type RedisStateLostError } from '../src/queue/epoch.js';
import { queueNames, type QueueNames } from '../src/queue/names.js';
import { failureSink, ingestSink, resultSink, segmentSink, type JobSink } from '../src/queue/job-sinks.js';
import type { IngestJob } from '../src/records/ingest-job.js';
import type { SegmentFailure } from '../src/records/segment-failure.js';
import type { ResultJob } from '../src/records/segment-result.js';
import type { SegmentJob } from '../src/records/segment-job.js';
import { StreamRegister } from '../src/queue/stream-register.js';
import { createS3Storage } from '../src/storage/s3.js';
import { SegmentProcessor } from '../workers/inference/segment-processor.js';
import type { ObjectStore } from '../src/storage/types.js';

/** The ports every role is built from, wired from one validated config. */
export interface Runtime {
  config: Config;
  /** One Redis or a Redis Cluster client (REDIS_URL or REDIS_CLUSTER_NODES). */
  redis: RedisClient;
  connection: ConnectionOptions;
  /** The queues' BullMQ names: hash-tagged on a cluster (src/queue/names). */
  queueNames: QueueNames;
  streams: StreamRegister;
  store: ObjectStore;
  media: MediaPort;
  /** BullMQ queues, for the role adapters and for monitoring. */
  queues: { segments: Queue; results: Queue; ingest: Queue };
  /** What role logic hands records to (queue/job-sinks). */
  segments: JobSink<SegmentJob>;
  results: JobSink<ResultJob>;
  failures: JobSink<SegmentFailure>;
  ingestJobs: JobSink<IngestJob>;
  /** The deployment's epoch in Redis (queue/epoch), as this process found it. */
  epoch: string;
  /** Calls `onLost` once if Redis stops holding the state this process started on. */
  watchState(onLost: (err: RedisStateLostError) => void): void;
  close(): Promise<void>;
}

/** The media port with the configured ffmpeg/ffprobe binaries. */
export function mediaFromConfig(config: Config): MediaPort {
  return createFfmpegMedia({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath, timeoutMs: config.ffmpegTimeoutMs });
}

export async function createRuntime(config: Config): Promise<Runtime> {
  const target = redisTarget(config);
  await assertRedisReachable(target);
  const store = createS3Storage({ ...config.s3 });
  await store.ensureBucket();
  const conns = openRedis(target);
  const { redis, bull: connection } = conns;
  const names = queueNames(conns.cluster);
  const epoch = await claimEpoch(redis, config.queuePrefix).catch((err: unknown) => {
    conns.disconnect();
    throw err;
  });
  const unwatch: (() => void)[] = [];
  const segments = new Queue(names.segments, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 3600 }, removeOnFail: false },
  });
  const results = new Queue(names.results, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 3600 }, removeOnFail: false },
  });
  // Archived footage waits long in this queue: failed ingests stay visible with their reason.
  const ingest = new Queue(names.ingest, { connection, prefix: config.queuePrefix, defaultJobOptions: { attempts: 2, removeOnFail: false } });
  const streams = new StreamRegister(redis, config.queuePrefix);
  return {
    config,
    redis,
    connection,
    queueNames: names,
    streams,
    store,
    media: mediaFromConfig(config),
    queues: { segments, results, ingest },
    segments: segmentSink(segments),
    results: resultSink(results),
    failures: failureSink(results),
    ingestJobs: ingestSink(ingest),
    epoch,
    watchState: (onLost) => void unwatch.push(watchEpoch(redis, config.queuePrefix, epoch, config.epochCheckMs, onLost)),
    close: async () => {
      for (const stop of unwatch) stop();
      await Promise.all([segments.close(), results.close(), ingest.close(), streams.close()]);
      conns.disconnect();
    },
  };
}

export interface LoadedModel {
  spec: ModelSpec;
  pool: InferencePool;
  key: string;
  /** Key of the fused gradient model, when loaded. */
  gradientKey?: string;
  providers: string[];
}

/** Resolves the configured model and opens it in an inference pool (worker threads). */
export async function loadModel(
  config: Config,
  name = config.model,
  log: (l: string) => void = (l) => console.warn(l),
  opts: { gradients?: boolean } = {},
): Promise<LoadedModel> {
  const spec = resolveModel(name, config.modelsDir);
  const pool = new InferencePool(config.executionProviders, config.inferenceThreads, config.intraOpThreads, log, { runTimeoutMs: config.inferenceTimeoutMs });
  try {
    const loaded = await pool.load(spec.name, spec.path);
    let gradientKey: string | undefined;
    if (opts.gradients) {
      // The backward pass is an ordinary ONNX model: same sessions, same execution providers.
      const fused = buildFusedModel(new Uint8Array(await readFile(spec.path)), spec.scoreMap);
      gradientKey = `${spec.name}.grad`;
      await pool.load(gradientKey, fused);
    }
    return { spec, pool, key: spec.name, gradientKey, providers: loaded.providers };
  } catch (err) {
    await pool.close();
    throw err;
  }
}

/** The inference worker's segment logic on a runtime's ports and a loaded model. */
export function segmentProcessor(rt: Runtime, model: LoadedModel): SegmentProcessor {
  return new SegmentProcessor({
    store: rt.store,
    media: rt.media,
    inference: model.pool,
    model: model.spec,
    modelKey: model.key,
    gradientKey: model.gradientKey,
    classes: new Set(model.spec.defaultClassesOfInterest),
  });
}
