import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { STREAM_ID_PATTERN } from '../../src/records/stream-id.js';
import { redactUrls } from '../../src/redact.js';
import { hostOfHeader, isLoopbackHost, SESSION_COOKIE, type DashboardAuth } from './auth.js';
import { readBench, readBenchPlot } from './bench.js';
import type { DashboardSource, FeedEvent, StreamFeed } from './event-feed.js';
import { isQueueName, queueSnapshot, retryFailedJob } from './queues.js';
import { metaView, updateOf } from './stream-view.js';

export interface Asset {
  type: string;
  body: string | Uint8Array;
}

export interface RouteDeps {
  auth: DashboardAuth;
  /** Absent: no Redis (a bench viewer only). */
  live?: { feed: StreamFeed; source: DashboardSource };
  benchDir?: string;
  /** Prometheus text for `/metrics`: the process's own metrics and the queues' counts. */
  metrics?: () => Promise<string>;
  /** The page and its scripts, by path (`/`, `/assets/app.js`, …). */
  assets: Map<string, Asset>;
  /** Ends every open event stream (the server is closing). */
  streams: Set<() => void>;
  keepAliveMs?: number;
}

type Env = { Variables: { authed: 'bearer' | 'cookie' | null } };

/** Rows of a stream's detail unless `?rows=` asks for fewer or more. */
const DEFAULT_ROWS = 1000;
const MAX_ROWS = 20_000;

const noLive = (c: Context) => c.json({ error: 'this dashboard has no Redis configured (set REDIS_URL or REDIS_CLUSTER_NODES); it shows a bench folder only' }, 503);

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
  c.header('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') c.header('Cache-Control', 'no-store');
};

function unauthorized(c: Context, why: string) {
  c.header('WWW-Authenticate', 'Bearer realm="oneadapt-dashboard"');
  return c.req.path.startsWith('/api/') ? c.json({ error: why }, 401) : c.text(`${why}\n`, 401);
}

/** The dashboard's HTTP API and page. */
export function dashboardRoutes(d: RouteDeps): Hono<Env> {
  const app = new Hono<Env>();
  const auth = d.auth;
  app.use('*', securityHeaders);

  app.use('*', async (c, next) => {
    // A loopback bind answers only requests addressed to a loopback name: a page on another
    // site whose name was rebound to 127.0.0.1 cannot read it.
    if (auth.loopback && !isLoopbackHost(hostOfHeader(c.req.header('host') ?? ''))) return c.text('this dashboard answers on 127.0.0.1 or localhost only\n', 403);
    const url = new URL(c.req.url);
    const offered = url.searchParams.get('token');
    if (offered !== null) {
      if (!auth.tokenMatches(offered)) return unauthorized(c, 'wrong token');
      setCookie(c, SESSION_COOKIE, auth.sessionValue()!, { httpOnly: true, sameSite: 'Strict', path: '/' });
      // The token leaves the address bar (and the history) at once; the cookie carries it on.
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 302);
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    c.set('authed', auth.tokenMatches(bearer) ? 'bearer' : auth.sessionMatches(getCookie(c, SESSION_COOKIE)) ? 'cookie' : null);
    if (!auth.loopback && c.get('authed') === null) return unauthorized(c, 'a token is required: send Authorization: Bearer <ONEADAPT_DASHBOARD_TOKEN>, or open the page once with ?token=<it>');
    await next();
  });

  /** Mutating actions: the token, always; by cookie only from this dashboard's own page. */
  const mutating: MiddlewareHandler<Env> = async (c, next) => {
    if (!auth.hasToken) return c.json({ error: 'actions are off: start the dashboard with ONEADAPT_DASHBOARD_TOKEN set to allow them' }, 403);
    const how = c.get('authed');
    if (how === null) return unauthorized(c, 'this action needs the token (Authorization: Bearer <ONEADAPT_DASHBOARD_TOKEN>)');
    if (how === 'cookie') {
      const origin = c.req.header('origin');
      const host = c.req.header('host');
      if (!origin || !host || new URL(origin).host !== host) return c.json({ error: 'cross-origin request refused' }, 403);
    }
    await next();
  };

  for (const [p, a] of d.assets) app.get(p, (c) => c.body(typeof a.body === 'string' ? a.body : new Uint8Array(a.body), 200, { 'Content-Type': a.type }));

  // Browsers ask for one; the page has none, and a 404 would read as an error in their console.
  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.get('/api/config', (c) => c.json({ live: d.live !== undefined, bench: d.benchDir !== undefined, actions: auth.hasToken, loopback: auth.loopback }));

  app.get('/api/streams', async (c) => (d.live ? c.json(await d.live.feed.summaries()) : noLive(c)));

  app.get('/api/streams/:id', async (c) => {
    if (!d.live) return noLive(c);
    const id = c.req.param('id');
    if (!STREAM_ID_PATTERN.test(id)) return c.json({ error: `not a stream id: ${JSON.stringify(id)}` }, 400);
    const limit = Math.min(MAX_ROWS, Math.max(0, Math.floor(Number(c.req.query('rows') ?? DEFAULT_ROWS)) || 0));
    const view = await d.live.feed.stream(id);
    if (!view) return c.json({ error: `no stream ${JSON.stringify(id)}` }, 404);
    const s = d.live.source.streams;
    const [rows, updates, policy] = await Promise.all([s.rows(id), s.updates(id), s.policyState(id)]);
    return c.json({
      summary: view.summary(),
      meta: metaView(view.meta),
      state: policy.state ?? null,
      lastConsumed: policy.lastSeq,
      updates: updates.map(updateOf),
      timeline: view.timeline(),
      failures: view.failureList(),
      lambda: view.lambdas,
      rows: rows.slice(Math.max(0, rows.length - limit)).map((r) => (r.error === undefined ? r : { ...r, error: redactUrls(r.error) })),
    });
  });

  // Fleets are not part of this system yet: an empty list keeps the page and clients stable.
  app.get('/api/fleets', (c) => {
    c.header('X-OneAdapt-Note', 'fleets are not available yet');
    return c.json([]);
  });

  app.get('/api/queues', async (c) => (d.live ? c.json(await queueSnapshot(d.live.source.queues)) : noLive(c)));

  app.post('/api/queues/:queue/jobs/:id/retry', mutating, async (c) => {
    if (!d.live) return noLive(c);
    const queue = c.req.param('queue');
    const id = c.req.param('id');
    if (!isQueueName(queue)) return c.json({ error: `no queue ${JSON.stringify(queue)}: expected segments, results or ingest` }, 404);
    if (id.length > 300) return c.json({ error: 'job id too long' }, 400);
    const out = await retryFailedJob(d.live.source.queues, queue, id);
    return out.ok ? c.json({ queue, id, state: out.state }) : c.json({ error: out.error }, out.status);
  });

  app.get('/api/events', (c) => {
    if (!d.live) return noLive(c);
    const feed = d.live.feed;
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      d.streams.add(end);
      stream.onAbort(() => end());
      // Writes queue in order on the stream; a failed one (the page left) ends it.
      const send = (e: FeedEvent) => void stream.writeSSE({ event: e.type, data: JSON.stringify(e) }).catch(() => end());
      await stream.writeSSE({ event: 'hello', data: '{}' });
      const leave = feed.addClient(send);
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n').catch(() => end()), d.keepAliveMs ?? 15_000);
      try {
        await ended;
      } finally {
        clearInterval(keepAlive);
        leave();
        d.streams.delete(end);
      }
    });
  });

  app.get('/api/bench', async (c) => (d.benchDir ? c.json(await readBench(d.benchDir)) : c.json({ error: 'no bench folder: start with --bench <dir>' }, 404)));

  app.get('/api/bench/plots/:name', async (c) => {
    const png = d.benchDir ? await readBenchPlot(d.benchDir, c.req.param('name')) : undefined;
    return png ? c.body(new Uint8Array(png), 200, { 'Content-Type': 'image/png' }) : c.json({ error: 'no such plot' }, 404);
  });

  app.get('/metrics', async (c) => (d.metrics ? c.text(await d.metrics(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }) : c.text('no metrics here\n', 404)));

  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: 'not found' }, 404) : c.text('not found\n', 404)));
  app.onError((err, c) => c.json({ error: redactUrls(err instanceof Error ? err.message : String(err)) }, 500));
  return app;
}
