import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Log } from '../../src/log.js';
import type { Metrics } from './metrics.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  /** Queues whose job counts by state are exported (BullMQ's own `bullmq_job_count`). */
  queues?: () => Queue[];
  /** Liveness: undefined while the process can do its work, else why not (a 503 restarts it). */
  unhealthy?: () => string | undefined;
  /** Readiness: undefined once the process takes work, else why not yet (a 503 holds traffic). */
  unready?: () => Promise<string | undefined>;
  log?: Log;
}

export interface MetricsServer {
  /** The bound port (the one asked for, or the one the system gave for port 0). */
  port: number;
  close(): Promise<void>;
}

/** BullMQ's export of several queues as one exposition: each metric's HELP and TYPE once. */
export async function queueMetrics(queues: Queue[]): Promise<string> {
  const texts = await Promise.all(queues.map((q) => q.exportPrometheusMetrics()));
  const samples = texts.flatMap((t) => t.split('\n').filter((l) => l.startsWith('bullmq_job_count{')));
  if (samples.length === 0) return '';
  return ['# HELP bullmq_job_count Number of jobs in the queue by state', '# TYPE bullmq_job_count gauge', ...samples, ''].join('\n');
}

/**
 * `/metrics` (Prometheus text), `/healthz` (liveness) and `/readyz` (readiness) for one
 * process. It binds where it is told; a port already taken is a warning, not a stopped role.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer | undefined> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'GET only\n');
    void (async () => {
      if (url === '/metrics') {
        const own = await opts.metrics.registry.metrics();
        // A Redis that does not answer must not take the process's own metrics with it.
        const queues = await queueMetrics(opts.queues?.() ?? []).catch((err: unknown) => `# queue counts unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
        return reply(200, own + queues, opts.metrics.registry.contentType);
      }
      if (url === '/healthz') {
        const why = opts.unhealthy?.();
        return why === undefined ? reply(200, 'ok\n') : reply(503, `${why}\n`);
      }
      if (url === '/readyz') {
        const why = opts.unready ? await opts.unready() : undefined;
        return why === undefined ? reply(200, 'ready\n') : reply(503, `${why}\n`);
      }
      reply(404, 'not found: try /metrics, /healthz or /readyz\n');
    })().catch((err: unknown) => reply(500, `${err instanceof Error ? err.message : String(err)}\n`));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    opts.log?.(`metrics: cannot listen on ${opts.host}:${opts.port} (${code}); /metrics, /healthz and /readyz are off for this process`, { level: 'warn' });
    return undefined;
  }
  // Scrapes must never keep a stopping process alive.
  server.unref();
  const port = (server.address() as AddressInfo).port;
  opts.log?.(`metrics: http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/metrics`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
