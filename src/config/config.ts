import { z } from 'zod';
import { redactUrls } from '../redact.js';
import { PermanentError } from '../errors.js';

/**
 * Every environment variable the system reads, in one place, validated once.
 * Unset optional values mean "embedded default" (e.g. the CLI starts a local Redis / S3).
 */
const schema = z.object({
  REDIS_URL: z.string().url().optional(),
  // A Redis Cluster instead of one Redis; checked by parseClusterNodes (exclusive with REDIS_URL).
  REDIS_CLUSTER_NODES: z.string().optional(),
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
  ONEADAPT_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  ONEADAPT_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  ONEADAPT_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  ONEADAPT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** A Redis Cluster: seed nodes (the client discovers the rest) and what every node is reached with. */
export interface RedisClusterConfig {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

export interface Config {
  /** One Redis (REDIS_URL); at most one of redisUrl and redisCluster is set. */
  redisUrl?: string;
  /** A Redis Cluster (REDIS_CLUSTER_NODES). */
  redisCluster?: RedisClusterConfig;
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
  /** `/metrics`, `/healthz`, `/readyz` of long-running processes and `run`; port 0 turns them off. */
  metrics: { host: string; port: number };
  /** JSON lines, or one readable line per event (auto: readable on a terminal). */
  logging: { format: 'auto' | 'json' | 'pretty'; level: 'debug' | 'info' | 'warn' | 'error' };
}

const SECRET_VARIABLES = new Set(['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID']);

export class ConfigError extends PermanentError {
  override name = 'ConfigError';
}

const CLUSTER_NODES_FORMAT = 'expected a comma list of redis://[user:pass@]host:port or rediss://… (bare host:port entries take the scheme and credentials of the others; percent-encode "," and "@" in a password)';

/**
 * A value that may hold credentials, as an error may show it: URL passwords become ***, and a
 * value with credentials outside a URL (no scheme, so no telling user from password) is hidden.
 */
function shownSecretive(text: string): string {
  const redacted = redactUrls(text);
  return redacted.replace(/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:\*\*\*@/gi, '').includes('@') ? '(hidden: it holds credentials outside a redis:// URL)' : JSON.stringify(redacted);
}

/**
 * REDIS_CLUSTER_NODES → seed nodes. One scheme and one set of credentials serve the whole
 * cluster (the client reaches every node it discovers with them), so the entries that name
 * them must agree; bare host:port entries take them over.
 */
function parseClusterNodes(raw: string): RedisClusterConfig {
  // Entries are named by position only: a mis-split password must not show up as an "entry".
  const fail = (why: string): never => {
    throw new ConfigError(`invalid configuration: REDIS_CLUSTER_NODES=${shownSecretive(raw)}: ${why}; ${CLUSTER_NODES_FORMAT}`);
  };
  const entries = raw.split(',').map((e) => e.trim());
  if (entries.every((e) => e === '')) fail('no node given');
  let auth: { scheme: string; username: string; password: string } | undefined;
  const nodes = entries.map((entry, i) => {
    const which = `entry ${i + 1}`;
    if (entry === '') fail(`${which} is empty`);
    const bare = !entry.includes('://');
    if (bare && entry.includes('@')) fail(`${which} has credentials but no redis:// scheme`);
    let u: URL;
    try {
      u = new URL(bare ? `redis://${entry}` : entry);
    } catch {
      return fail(`${which} is not a redis:// URL or host:port`);
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') fail(`${which} has the scheme ${u.protocol.slice(0, -1)}`);
    if (!u.hostname) fail(`${which} has no host`);
    if (u.pathname.length > 1 || u.search || u.hash) fail(`${which} has more than host:port, such as a database (a cluster has database 0 only)`);
    if (!bare) {
      const mine = { scheme: u.protocol, username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
      if (auth && (auth.scheme !== mine.scheme || auth.username !== mine.username || auth.password !== mine.password)) {
        fail(`${which} differs from an earlier entry in scheme or credentials (one set serves every node)`);
      }
      auth ??= mine;
    }
    const port = u.port ? Number(u.port) : 6379;
    if (port < 1) fail(`${which} has port 0`);
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  });
  return { nodes, username: auth?.username || undefined, password: auth?.password || undefined, tls: auth?.scheme === 'rediss:' };
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
  if (e.REDIS_URL !== undefined && e.REDIS_CLUSTER_NODES !== undefined) {
    throw new ConfigError('invalid configuration: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  return {
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER_NODES === undefined ? undefined : parseClusterNodes(e.REDIS_CLUSTER_NODES),
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
    metrics: { host: e.ONEADAPT_METRICS_HOST, port: e.ONEADAPT_METRICS_PORT },
    logging: { format: e.ONEADAPT_LOG_FORMAT, level: e.ONEADAPT_LOG_LEVEL },
  };
}
