import { z } from 'zod';
import { redactUrls } from '../redact.js';
import { PermanentError } from '../errors.js';

/**
 * Every environment variable the system reads, in one place, validated once.
 * Unset optional values mean "embedded default" (e.g. the CLI starts a local Redis / S3).
 */
const schema = z.object({
  REDIS_URL: z.string().url().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_BUCKET: z.string().min(3).max(63).regex(/^[a-z0-9.-]+$/, 'lower-case letters, digits, dots and dashes').default('oneadapt'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  ONEADAPT_S3_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  ONEADAPT_S3_ATTEMPTS: z.coerce.number().int().min(1).max(10).optional(),
  ONEADAPT_MODEL: z.string().min(1).default('yolox-nano'),
  ONEADAPT_MODELS_DIR: z.string().optional(),
  ONEADAPT_EXECUTION_PROVIDERS: z.string().default('cpu'),
  ONEADAPT_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  ONEADAPT_INFERENCE_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  ONEADAPT_INFERENCE_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  ONEADAPT_SEGMENT_SECONDS: z.coerce.number().positive().max(60).default(1),
  ONEADAPT_ANALYSIS_FPS: z.coerce.number().int().min(1).max(60).default(10),
  // What a user would pick: F1 0.9 against the reference for the fewest bytes (docs/adaptation.md).
  ONEADAPT_POLICY: z.string().min(1).default('oneadapt:target-f1=0.9'),
  ONEADAPT_PROBE_EVERY: z.coerce.number().int().min(1).max(1000).default(1),
  ONEADAPT_LOCK_MS: z.coerce.number().int().min(1000).max(3_600_000).default(20_000),
  ONEADAPT_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(3_600_000).default(10_000),
  ONEADAPT_MAX_STALLED: z.coerce.number().int().min(0).max(100).default(1),
  ONEADAPT_EPOCH_CHECK_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  ONEADAPT_INGEST_LOCAL_DIRS: z.string().default(''),
  ONEADAPT_RESULT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(300_000),
  ONEADAPT_QUEUE_PREFIX: z.string().min(1).regex(/^[^:]+$/, 'no colon').default('oneadapt'),
  ONEADAPT_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  ONEADAPT_FFMPEG_PATH: z.string().min(1).optional(),
  ONEADAPT_FFPROBE_PATH: z.string().min(1).optional(),
  ONEADAPT_FFMPEG_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).optional(),
});

export interface Config {
  redisUrl?: string;
  s3: {
    endpoint?: string;
    bucket: string;
    region: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
    /** Per-attempt request timeout and attempts per operation; unset → the store's defaults (src/storage/s3.ts). */
    requestTimeoutMs?: number;
    maxAttempts?: number;
  };
  model: string;
  modelsDir?: string;
  executionProviders: string[];
  intraOpThreads?: number;
  inferenceThreads: number;
  /** A run past this deadline stops its inference thread, which is replaced (0 = none). */
  inferenceTimeoutMs: number;
  segmentSeconds: number;
  analysisFps: number;
  /** Policy for streams an ingest registers without one given on the command line. */
  policy: string;
  /** InputGrad probe every N segments for streams whose policy adapts by gradient. */
  probeEvery: number;
  /**
   * BullMQ job locks: a worker renews its lock every lockMs/2; a job whose lock lapsed (its
   * worker died) is taken up again at the next stalled check, so within lockMs + stalledIntervalMs;
   * a job that stalls more than maxStalled times fails (and is reported as an error row).
   */
  queueTimings: { lockMs: number; stalledIntervalMs: number; maxStalled: number };
  /** How often each process checks that Redis still holds its state (queue/epoch). */
  epochCheckMs: number;
  /** Local folders archive jobs may read besides the bucket (absolute paths). */
  ingestLocalDirs: string[];
  /** How long a waiting stream (lockstep ingest, `run`) waits for its next result before it reports a stall. */
  resultTimeoutMs: number;
  queuePrefix: string;
  workerConcurrency: number;
  /** ffmpeg/ffprobe binaries; unset → found on PATH. */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Limit on one batched ffmpeg/ffprobe run; unset → the media port's default (src/media/ffmpeg-run.ts). */
  ffmpegTimeoutMs?: number;
}

const SECRET_VARIABLES = new Set(['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID']);

export class ConfigError extends PermanentError {
  override name = 'ConfigError';
}

/** Reads and validates the environment; errors name the variable, what was expected and what came. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      // Secrets are named, never shown; URLs lose their passwords.
      const shown = SECRET_VARIABLES.has(key) ? '(hidden)' : JSON.stringify(redactUrls(String(env[key])));
      return `${key}=${shown}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const providers = e.ONEADAPT_EXECUTION_PROVIDERS.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const known = ['cpu', 'cuda', 'webgpu', 'tensorrt', 'dml', 'coreml'];
  const unknown = providers.filter((p) => !known.includes(p));
  if (unknown.length > 0) {
    throw new ConfigError(`invalid configuration: ONEADAPT_EXECUTION_PROVIDERS has ${unknown.join(', ')}; expected a comma list of ${known.join('|')}`);
  }
  if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('invalid configuration: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither');
  }
  return {
    redisUrl: e.REDIS_URL,
    s3: {
      endpoint: e.S3_ENDPOINT,
      bucket: e.S3_BUCKET,
      region: e.S3_REGION,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      // Custom endpoints (MinIO, R2, s3rver) want path-style; AWS itself does not.
      forcePathStyle: e.S3_FORCE_PATH_STYLE ? e.S3_FORCE_PATH_STYLE === 'true' : e.S3_ENDPOINT !== undefined,
      requestTimeoutMs: e.ONEADAPT_S3_TIMEOUT_MS,
      maxAttempts: e.ONEADAPT_S3_ATTEMPTS,
    },
    model: e.ONEADAPT_MODEL,
    modelsDir: e.ONEADAPT_MODELS_DIR,
    executionProviders: providers.length > 0 ? providers : ['cpu'],
    intraOpThreads: e.ONEADAPT_INTRA_OP_THREADS,
    inferenceThreads: e.ONEADAPT_INFERENCE_THREADS,
    inferenceTimeoutMs: e.ONEADAPT_INFERENCE_TIMEOUT_MS,
    segmentSeconds: e.ONEADAPT_SEGMENT_SECONDS,
    analysisFps: e.ONEADAPT_ANALYSIS_FPS,
    policy: e.ONEADAPT_POLICY,
    probeEvery: e.ONEADAPT_PROBE_EVERY,
    queueTimings: { lockMs: e.ONEADAPT_LOCK_MS, stalledIntervalMs: e.ONEADAPT_STALLED_INTERVAL_MS, maxStalled: e.ONEADAPT_MAX_STALLED },
    epochCheckMs: e.ONEADAPT_EPOCH_CHECK_MS,
    ingestLocalDirs: e.ONEADAPT_INGEST_LOCAL_DIRS.split(',').map((d) => d.trim()).filter(Boolean),
    resultTimeoutMs: e.ONEADAPT_RESULT_TIMEOUT_MS,
    queuePrefix: e.ONEADAPT_QUEUE_PREFIX,
    workerConcurrency: e.ONEADAPT_WORKER_CONCURRENCY,
    ffmpegPath: e.ONEADAPT_FFMPEG_PATH,
    ffprobePath: e.ONEADAPT_FFPROBE_PATH,
    ffmpegTimeoutMs: e.ONEADAPT_FFMPEG_TIMEOUT_MS,
  };
}
