import type { Config } from '../src/config/config.js';
import type { Log } from '../src/log.js';
import { createLogger } from './logging.js';
import { Metrics } from './metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from './metrics/server.js';
import type { Runtime } from './runtime.js';

/** A ready process answers Redis within this long; a slower one gets no new traffic. */
const READY_PING_MS = 1000;

/** What a process shows its operator: logs, and `/metrics`, `/healthz`, `/readyz`. */
export interface ProcessObservability {
  log: Log;
  metrics: Metrics;
  /** The bound metrics port; undefined when off (port 0) or when the port was taken. */
  port?: number;
  /** The runtime whose queues and Redis the endpoints report, once the process has one. */
  attach(rt: Runtime): void;
  /** Liveness fails from now on: the process cannot do its work and is going down. */
  fail(reason: string): void;
  /** Readiness fails from now on (stopping: jobs in flight finish, no new traffic); liveness holds. */
  drain(): void;
  close(): Promise<void>;
}

async function redisAnswers(rt: Runtime): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`Redis did not answer within ${READY_PING_MS} ms`), READY_PING_MS)));
  try {
    return await Promise.race([rt.redis.ping().then(() => undefined, (err: unknown) => `Redis: ${err instanceof Error ? err.message : String(err)}`), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the process's logger and, unless ONEADAPT_METRICS_PORT is 0, its HTTP endpoints. */
export async function observeProcess(config: Config, role: string): Promise<ProcessObservability> {
  const { log } = createLogger({ role, format: config.logging.format, level: config.logging.level });
  const metrics = new Metrics();
  let rt: Runtime | undefined;
  let failed: string | undefined;
  let draining = false;
  let server: MetricsServer | undefined;
  if (config.metrics.port > 0) {
    server = await startMetricsServer({
      host: config.metrics.host,
      port: config.metrics.port,
      metrics,
      queues: () => (rt ? [rt.queues.segments, rt.queues.results, rt.queues.ingest] : []),
      unhealthy: () => failed,
      unready: async () => failed ?? (draining ? 'draining' : rt ? redisAnswers(rt) : 'starting'),
      log,
    });
  }
  return {
    log,
    metrics,
    port: server?.port,
    attach: (r) => void (rt = r),
    fail: (reason) => void (failed ??= reason),
    drain: () => void (draining = true),
    close: async () => server?.close(),
  };
}
