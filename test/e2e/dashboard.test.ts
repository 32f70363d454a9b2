import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AttachedDashboard } from '../../app/dashboard/attached.js';
import { startDashboard, type Dashboard } from '../../app/dashboard/server.js';
import { runVideos } from '../../app/run-job.js';
import type { Runtime } from '../../app/runtime.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { segmentJobId } from '../../src/queue/names.js';
import type { Report } from '../../src/report/report.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts/dashboard');
// The README's picture is refreshed only when asked for: a test run leaves the tree as it was.
const README_SHOT = process.env.ONEADAPT_UPDATE_DOCS_SCREENSHOT === '1' ? path.resolve('docs/images/dashboard.png') : path.join(ARTIFACTS, 'readme.png');
const missing = missingFootage(HIGHWAY) ?? (existsSync(CHROMIUM) ? undefined : `no browser at ${CHROMIUM} (apt-get install -y chromium)`);

const TOKEN = `dash-${randomBytes(16).toString('hex')}`;
const CAMERA_PASSWORD = 'hunter2-camera';
/** The run's segment 4 is damaged on its way to the store: its job fails, the stream goes on. */
const DAMAGED = 4;
const SEGMENTS = 10;

/** The test Redis, reached with a password in its URL (a Redis without one takes any for `default`). */
function redisUrlWithPassword(): { url: string; password: string } {
  const u = new URL(inject('redisUrl'));
  if (u.password) return { url: u.toString(), password: decodeURIComponent(u.password) };
  const password = `hunter2-redis-${randomBytes(4).toString('hex')}`;
  u.username = 'default';
  u.password = password;
  return { url: u.toString(), password };
}

/** A GET with a Host header of our choosing (fetch will not send one). */
function getWithHost(port: number, pathname: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A bench --out folder: summary.md tables as `oneadapt bench` writes them, and a real bench plot. */
async function benchFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-bench-view-'));
  await mkdir(path.join(dir, 'plots'));
  await copyFile('docs/bench/pareto-bw.png', path.join(dir, 'plots', 'pareto-bw.png'));
  await copyFile('docs/bench/pareto-bw.png', path.join(dir, 'plots', 'timeline-bw-highway.png'));
  await writeFile(
    path.join(dir, 'summary.md'),
    [
      '# Bench: highway-320x240.avi',
      '',
      '## Bandwidth',
      '',
      '| policy | λ | mean kbit/s | mean F1 | bytes vs best fixed |',
      '|---|---|---|---|---|',
      '| oneadapt | 0.1 | 61.2 | 0.912 | 0.74× |',
      '| awstream | 0.2 | 88.0 | 0.905 | 1.06× |',
      '',
      '![F1 against bandwidth](plots/pareto-bw.png)',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'summary.json'), JSON.stringify({ videos: [HIGHWAY], rows: [] }));
  return dir;
}

describe.skipIf(missing)(`the dashboard follows a run live${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const redis = redisUrlWithPassword();
  const config = pipelineConfig('dashboard', { REDIS_URL: redis.url, ONEADAPT_METRICS_PORT: '0' });
  const secrets = [redis.password, redis.url, config.s3.accessKeyId!, config.s3.secretAccessKey!, TOKEN, CAMERA_PASSWORD];
  const dashboard = new AttachedDashboard({ port: 0, token: TOKEN, log: () => undefined, queuePollMs: 500 });
  let board: Dashboard;
  let rt: Runtime;
  let browser: Browser;
  let page: Page;
  let benchDir: string;
  let streamId: string;
  let run: Promise<Report[]>;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let pageReady!: () => void;
  const gate = new Promise<void>((resolve) => (pageReady = resolve));
  const commits = new Map<number, number>();
  let watcher: Redis;
  let sseText = '';
  const sseAbort = new AbortController();
  const runAbort = new AbortController();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await mkdir(path.dirname(README_SHOT), { recursive: true });
    benchDir = await benchFolder();
    // When each result was committed, from Redis itself: what the page's latency is measured against.
    watcher = new Redis(redis.url);
    await watcher.psubscribe(`${config.queuePrefix}:oa:stream:*:consumed`);
    watcher.on('pmessage', (_p: string, _c: string, seq: string) => void commits.set(Number(seq), Date.now()));
    let onRuntime!: (r: Runtime) => void;
    const runtimeUp = new Promise<Runtime>((resolve) => (onRuntime = resolve));
    run = runVideos(config, {
      videos: [HIGHWAY],
      policy: 'script:2@qp=32;5@resolution=0.5',
      maxSegments: SEGMENTS,
      signal: runAbort.signal,
      log: () => undefined,
      onRuntime: (r) => {
        const store = r.store;
        // The ingest's uploads (the worker holds the store it was built with): the first waits
        // for the page, so that nothing happens before it watches; segment 4 arrives truncated.
        r.store = {
          bucket: store.bucket,
          ensureBucket: () => store.ensureBucket(),
          get: (k) => store.get(k),
          getIfExists: (k) => store.getIfExists(k),
          list: (p, o) => store.list(p, o),
          delete: (k) => store.delete(k),
          put: async (k, body, type) => {
            if (/\/segments\/000000\.mp4$/.test(k)) await gate;
            const damaged = new RegExp(`/segments/${String(DAMAGED).padStart(6, '0')}\\.mp4$`).test(k) && Buffer.isBuffer(body);
            return store.put(k, damaged ? body.subarray(0, 100) : body, type);
          },
        };
        dashboard.attach(r);
        onRuntime(r);
      },
      holdOpen: () => held,
    });
    run.catch(() => undefined);
    rt = await runtimeUp;
    board = (await dashboard.ready())!;
    expect(board).toBeDefined();
    // Every event any page gets, from the first: for the secrets check below.
    const sse = await fetch(`${board.url}api/events`, { signal: sseAbort.signal });
    const reader = sse.body!.getReader();
    void (async () => {
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        sseText += dec.decode(value);
      }
    })().catch(() => undefined);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // A script or style the Content-Security-Policy refused would show here.
    page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
    await page.goto(board.url);
    await page.waitForSelector('#live[data-state="live"]');
    expect(pageErrors).toEqual([]);
    // The moment the streams table first shows the scripted QP, in the page's own clock.
    await page.evaluate(() => {
      const w = window as unknown as { qp32At: number | null };
      w.qp32At = null;
      new MutationObserver(() => {
        const td = document.querySelector('#streams td[data-field="qp"]');
        if (w.qp32At === null && td?.textContent === '32') w.qp32At = Date.now();
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    pageReady();
  });

  afterAll(async () => {
    // Whatever failed above: nothing may wait on the page or on this file any longer.
    pageReady?.();
    release?.();
    runAbort.abort(new Error('the test is over'));
    sseAbort.abort();
    await run?.catch(() => undefined);
    await dashboard.close();
    await browser?.close();
    await watcher?.quit().catch(() => undefined);
  });

  it('lists the stream, grows its timelines as segments complete, shows a knob update within 2 s of its commit', async () => {
    const row = page.locator('#streams tbody tr[data-stream^="highway-320x240-"]');
    await row.waitFor();
    streamId = (await row.getAttribute('data-stream'))!;
    await expect.poll(() => row.locator('td[data-field="state"]').textContent(), { timeout: 30_000 }).toBe('running');
    expect(await row.locator('td[data-field="policy"]').textContent()).toBe('script:2@qp=32;5@resolution=0.5');

    const qpChart = page.locator('#charts .chart[data-series="qp"]');
    const points = async () => Number(await qpChart.getAttribute('data-points'));
    await expect.poll(points, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    const early = await points();
    expect(await qpChart.locator('canvas').count()).toBeGreaterThan(0);

    // The update the script makes after result 2 (valid from segment 3): on the page within 2 s.
    await page.waitForFunction(() => (window as unknown as { qp32At: number | null }).qp32At !== null, undefined, { timeout: 30_000 });
    const seenAt = await page.evaluate(() => (window as unknown as { qp32At: number }).qp32At);
    const committedAt = commits.get(2);
    expect(committedAt).toBeDefined();
    expect(seenAt - committedAt!).toBeLessThan(2000);
    await expect.poll(() => page.locator('#updates tr[data-version="1"] td[data-knobs]').textContent()).toBe('QP 32, ×1, 10 fps');

    // More segments, more points; the knobs of segment 3 on, as encoded.
    await expect.poll(points, { timeout: 30_000 }).toBeGreaterThanOrEqual(6);
    expect(await points()).toBeGreaterThan(early);
    expect(Number(await row.locator('td[data-field="segmentsDone"]').textContent().then((t) => t!.split('/')[0]))).toBeGreaterThanOrEqual(5);
    const detail = await (await fetch(`${board.url}api/streams/${streamId}`)).json();
    expect(detail.timeline.slice(0, 4).map((p: { qp: number }) => p.qp)).toEqual([20, 20, 20, 32]);
  });

  it('shows the failed segment with its reason, in the stream and in the segments queue', async () => {
    const failure = page.locator(`#failures tr[data-seq="${DAMAGED}"] td.reason`);
    await expect.poll(() => failure.textContent(), { timeout: 30_000 }).toMatch(/not decodable/);
    await expect.poll(() => page.locator('#streams td[data-field="segmentsFailed"]').textContent()).toBe('1');
    const job = page.locator(`#queues .queue[data-queue="segments"] tr[data-job="${segmentJobId(streamId, DAMAGED)}"]`);
    await expect.poll(() => job.locator('td.reason').textContent(), { timeout: 10_000 }).toMatch(/not decodable/);
    expect(await page.locator('#queues .queue[data-queue="segments"] [data-count="failed"] b').textContent()).toBe('1');

    // A screenshot during the run, once the update of segment 6 on and the failure are in.
    await expect.poll(async () => Number(await page.locator('#charts .chart[data-series="resolution"]').getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
    const streamsLeft = await page.locator('#streams tbody tr td[data-field="state"]').textContent();
    await page.screenshot({ path: path.join(ARTIFACTS, 'during-run.png'), fullPage: true });
    const bottom = await page.locator('#queues-section').evaluate((e) => e.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: README_SHOT, fullPage: true, clip: { x: 0, y: 0, width: 1400, height: Math.ceil(bottom) + 14 } });
    expect(['running', 'done']).toContain(streamsLeft);
  });

  it('retries a failed job only with the token', async () => {
    const jobId = segmentJobId(streamId, DAMAGED);
    const retryUrl = `${board.url}api/queues/segments/jobs/${jobId}/retry`;
    // Loopback: reads are open, actions are not.
    expect((await fetch(retryUrl, { method: 'POST' })).status).toBe(401);
    expect((await fetch(retryUrl, { method: 'POST', headers: { Authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    expect((await fetch(`${board.url}api/queues/segments/jobs/${segmentJobId(streamId, 0)}/retry`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(409);
    const before = await rt.queues.segments.getJob(jobId);
    expect(await before!.getState()).toBe('failed');
    const failedOn = before!.finishedOn!;

    // The page asks for the token, then the job runs again (and fails again: its object is damaged).
    page.once('dialog', (d) => void d.accept(TOKEN));
    await page.locator(`button[data-retry="segments/${jobId}"]`).click();
    await expect.poll(() => page.locator('#action-status').textContent(), { timeout: 10_000 }).toMatch(new RegExp(`segments job ${jobId.replace(/\./g, '\\.')} retried`));
    await expect
      .poll(async () => {
        const j = await rt.queues.segments.getJob(jobId);
        return (await j!.getState()) === 'failed' && j!.finishedOn! > failedOn;
      }, { timeout: 30_000 })
      .toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'after-retry.png'), fullPage: true });
  });

  it('needs the token for everything off loopback, and refuses to start without one', async () => {
    await expect(startDashboard({ host: '0.0.0.0', port: 0, source: rt })).rejects.toThrow(/not a loopback address: set ONEADAPT_DASHBOARD_TOKEN/);
    // A loopback bind answers only loopback names (no DNS rebinding onto it).
    expect(await getWithHost(board.port, '/api/streams', 'evil.example:80')).toBe(403);
    expect(await getWithHost(board.port, '/api/streams', `localhost:${board.port}`)).toBe(200);

    const open = await startDashboard({ host: '0.0.0.0', port: 0, token: TOKEN, source: rt });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const base = `http://127.0.0.1:${open.port}`;
      for (const p of ['/', '/api/streams', `/api/streams/${streamId}`, '/api/queues', '/api/events', '/assets/app.js', '/metrics']) {
        expect((await fetch(`${base}${p}`)).status, p).toBe(401);
      }
      expect((await fetch(`${base}/api/streams?token=wrong-token-wrong-token`, { redirect: 'manual' })).status).toBe(401);
      const streams = await fetch(`${base}/api/streams`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(streams.status).toBe(200);
      expect((await streams.json()).map((s: { id: string }) => s.id)).toContain(streamId);

      // The browser: once with ?token=, which becomes an HttpOnly cookie and leaves the address bar.
      const p = await context.newPage();
      await p.goto(`${base}/?token=${TOKEN}`);
      expect(p.url()).toBe(`${base}/`);
      await p.locator(`#streams tbody tr[data-stream="${streamId}"]`).waitFor();
      await p.waitForSelector('#live[data-state="live"]');
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: 'oneadapt_dashboard', httpOnly: true, sameSite: 'Strict' });
      expect(cookie.value).not.toContain(TOKEN);
      // A retry from another site carries no cookie (SameSite) and no Origin of this one.
      expect((await fetch(`${base}/api/queues/segments/jobs/x/retry`, { method: 'POST', headers: { Cookie: `${cookie.name}=${cookie.value}`, Origin: 'http://evil.example' } })).status).toBe(403);
      await p.screenshot({ path: path.join(ARTIFACTS, 'token-bind.png'), fullPage: true });
    } finally {
      await context.close();
      await open.close();
    }
  });

  it('shows a bench folder: its tables and plots', async () => {
    const bench = await startDashboard({ port: 0, benchDir, source: rt });
    try {
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${bench.url}#bench`);
      const table = p.locator('#bench-body table.md');
      await table.first().waitFor();
      expect(await table.locator('tbody tr').count()).toBe(2);
      expect(await table.locator('tbody tr').first().locator('td').first().textContent()).toBe('oneadapt');
      const imgs = p.locator('#bench img.plot');
      await expect.poll(() => imgs.count()).toBe(2);
      await expect.poll(() => imgs.evaluateAll((list) => list.map((i) => (i as HTMLImageElement).naturalWidth > 100))).toEqual([true, true]);
      expect((await fetch(`${bench.url}api/bench/plots/..%2Fsummary.md`)).status).toBe(404);
      await p.locator('#bench').screenshot({ path: path.join(ARTIFACTS, 'bench.png') });
      await p.close();
    } finally {
      await bench.close();
    }
  });

  it('lets no secret reach the page or the API', async () => {
    // A stream whose source URL holds a password, with an error naming it.
    await rt.streams.register({ streamId: 'cam-with-password', source: `rtsp://admin:${CAMERA_PASSWORD}@10.1.2.3/live`, sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'yolox-nano', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, { qp: 20, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 }, null);
    await rt.streams.recordRow('cam-with-password', 0, { seq: 0, knobs: { qp: 20, resolution: '320x240', fps: 10, roi: 0 }, knobVersion: 0, bytes: 0, frames: 0, slots: 10, detections: 0, proxy: 0, f1: null, refBytes: null, decodeMs: 0, inferMs: 0, gradMs: 0, encodeMs: 0, probeMs: 0, error: `cannot open rtsp://admin:${CAMERA_PASSWORD}@10.1.2.3/live` });
    await expect.poll(() => sseText.includes('"id":"cam-with-password"'), { timeout: 10_000 }).toBe(true);
    const bench = await startDashboard({ port: 0, benchDir, source: rt, token: TOKEN });
    const bodies: string[] = [sseText];
    try {
      for (const base of [board.url, bench.url]) {
        for (const p of ['', 'assets/app.js', 'api/config', 'api/streams', `api/streams/${streamId}?rows=20000`, 'api/streams/cam-with-password', 'api/queues', 'api/fleets', 'metrics', 'api/bench', 'api/nope']) {
          const res = await fetch(`${base}${p}`);
          bodies.push(`${p} ${res.status} ${[...res.headers].join(' ')} ${await res.text()}`);
        }
      }
    } finally {
      await bench.close();
    }
    const all = bodies.join('\n');
    expect(all).toContain('rtsp://admin:***@10.1.2.3/live');
    for (const s of secrets) expect(all.split(s).length - 1, `occurrences of a secret (${s.slice(0, 4)}…)`).toBe(0);
    // The page ran the whole run without an error (script, refused style or script, failed request).
    expect(pageErrors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
    const fleets = await fetch(`${board.url}api/fleets`);
    expect(await fleets.json()).toEqual([]);
  });
});
