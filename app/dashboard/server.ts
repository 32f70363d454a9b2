import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { createAdaptorServer } from '@hono/node-server';
import type { Log } from '../../src/log.js';
import { queueMetrics } from '../metrics/server.js';
import type { Metrics } from '../metrics/metrics.js';
import { DashboardAuth } from './auth.js';
import { assertBenchDir } from './bench.js';
import { StreamFeed, type DashboardSource } from './event-feed.js';
import { QUEUE_NAMES } from './queues.js';
import { dashboardRoutes, type Asset } from './routes.js';

export interface DashboardOptions {
  /** Default 127.0.0.1; any other address needs `token`. */
  host?: string;
  /** 0: any free port. */
  port: number;
  /** ONEADAPT_DASHBOARD_TOKEN: required off loopback and for every action (retry). */
  token?: string;
  /** The Redis and queues to show; absent: a bench viewer only. */
  source?: DashboardSource;
  /** A bench `--out` folder to show. */
  benchDir?: string;
  /** The process's own metrics, served with the queue counts on `/metrics`. */
  metrics?: Metrics;
  log?: Log;
  /** How often the queues are counted while a page is open (default 2 s). */
  queuePollMs?: number;
}

export interface Dashboard {
  /** http://host:port/ (the token is never part of it). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * The page and its scripts, read once: public/ next to this module (app/dashboard/public from
 * the sources, dist/app/dashboard/public in the build, where `npm run build` copies it) and
 * uPlot's own dist files from node_modules, so the page needs nothing from the network.
 */
async function loadAssets(): Promise<Map<string, Asset>> {
  const own = (file: string) => new URL(`./public/${file}`, import.meta.url);
  const req = createRequire(import.meta.url);
  const files: [string, string | URL][] = [
    ['/', own('index.html')],
    ['/assets/app.js', own('app.js')],
    ['/assets/style.css', own('style.css')],
    ['/assets/uPlot.iife.min.js', req.resolve('uplot/dist/uPlot.iife.min.js')],
    ['/assets/uPlot.min.css', req.resolve('uplot/dist/uPlot.min.css')],
  ];
  const out = new Map<string, Asset>();
  for (const [route, file] of files) {
    const name = typeof file === 'string' ? file : file.pathname;
    let body: string;
    try {
      body = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`dashboard asset ${name} is missing (the build copies app/dashboard/public next to server.js): ${(err as Error).message}`, { cause: err });
    }
    out.set(route, { type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream', body });
  }
  return out;
}

/** Starts the dashboard's HTTP server; refuses a non-loopback bind without a token. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  const auth = new DashboardAuth(host, opts.token);
  if (!opts.source && !opts.benchDir) throw new Error('the dashboard needs Redis (REDIS_URL or REDIS_CLUSTER_NODES) or a bench folder (--bench <dir>)');
  if (opts.benchDir) await assertBenchDir(opts.benchDir);
  const assets = await loadAssets();
  const feed = opts.source ? new StreamFeed(opts.source, { log: opts.log, queuePollMs: opts.queuePollMs }) : undefined;
  await feed?.start();
  const source = opts.source;
  const streams = new Set<() => void>();
  const app = dashboardRoutes({
    auth,
    live: feed && source ? { feed, source } : undefined,
    benchDir: opts.benchDir,
    metrics: async () => {
      const own = opts.metrics ? await opts.metrics.registry.metrics() : '';
      const queues = source ? await queueMetrics(QUEUE_NAMES.map((n) => source.queues[n])).catch((err: unknown) => `# queue counts unavailable: ${(err as Error).message}\n`) : '';
      return own + queues;
    },
    assets,
    streams,
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => resolve());
    });
  } catch (err) {
    feed?.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`dashboard: cannot listen on ${host}:${opts.port}${code ? ` (${code})` : ''}`, { cause: err });
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  opts.log?.(`dashboard: ${url}${auth.loopback ? '' : ' (open it once with ?token=<ONEADAPT_DASHBOARD_TOKEN>)'}`);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        feed?.close();
        for (const end of [...streams]) end();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
