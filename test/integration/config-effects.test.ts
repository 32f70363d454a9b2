import { createHash, createHmac } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { createRuntime, loadModel, type LoadedModel, type Runtime } from '../../app/runtime.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { LOCAL_S3_CREDENTIALS } from '../../src/embedded/local-s3-server.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { defaultModelsDir, resolveModel } from '../../src/models/catalog.js';
import type { SegmentJob } from '../../src/records/segment-job.js';
import { segmentKey } from '../../src/storage/keys.js';
import { createS3Storage } from '../../src/storage/s3.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { randomPrefix } from '../support/random.js';

// Each variable of docs/configuration.md not covered elsewhere (the policy/probe/segment/fps/
// model/ffmpeg ones: test/e2e/config-paths.test.ts, test/unit/stream-options.test.ts; messages:
// test/unit/config.test.ts) is set through loadConfig and observed where it takes effect:
// Redis keys, requests on the wire, OS threads, jobs held at once.

const FASTESTDET = path.join(defaultModelsDir(), 'fastestdet/FastestDet.onnx');
const noFastestDet = !existsSync(FASTESTDET);
const noProcTasks = !existsSync('/proc/self/task');

/** Everything createRuntime opens is closed, also when an assertion fails. */
const opened: Runtime[] = [];
async function runtime(c: Config): Promise<Runtime> {
  const rt = await createRuntime(c);
  opened.push(rt);
  return rt;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((rt) => rt.close()));
});

async function bucketExists(endpoint: string, bucket: string): Promise<boolean> {
  const store = createS3Storage({ endpoint, bucket, ...LOCAL_S3_CREDENTIALS });
  try {
    for await (const key of store.list('')) void key;
    return true;
  } catch (err) {
    if (/bucket not found/.test((err as Error).message)) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// A recording HTTP proxy in front of the run's s3rver: it shows what the client really sends
// (endpoint, path or host addressing, the SigV4 credential scope), can verify SigV4 signatures
// (s3rver checks the access key id but leaves version-4 signatures unverified) and can hold
// requests to see how many a worker has in flight.
// ---------------------------------------------------------------------------------------------

interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  host: string;
  authorization: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/** Recomputes a request's SigV4 signature with `secret`; true when it matches the one sent. */
function signedWith(req: IncomingMessage, secret: string): boolean {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(req.headers.authorization ?? '');
  if (!auth) return false;
  const [, , date, region, service, signedHeaders, signature] = auth;
  const [pathname, query = ''] = (req.url ?? '/').split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((p) => (p.includes('=') ? p : `${p}=`))
    .sort()
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [req.method, pathname, canonicalQuery, headers, signedHeaders, String(req.headers['x-amz-content-sha256'])].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date']), scope, sha256(canonical)].join('\n');
  const key = ['aws4_request'].reduce((k, s) => hmac(k, s), [date, region, service].reduce<string | Buffer>((k, s) => hmac(k, s), `AWS4${secret}`));
  return createHmac('sha256', key).update(toSign).digest('hex') === signature;
}

class S3Proxy {
  readonly seen: SeenRequest[] = [];
  /** Requests held back (not yet forwarded), each with the function that forwards it. */
  readonly held: (() => void)[] = [];
  hold: (req: IncomingMessage) => boolean = () => false;
  /** When set, requests not signed with this secret are refused as a verifying S3 would. */
  verifySecret?: string;
  private readonly server: Server;
  private readonly upstream: URL;

  private constructor(target: string) {
    this.upstream = new URL(target);
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(target: string): Promise<S3Proxy> {
    const proxy = new S3Proxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  endpoint(host = '127.0.0.1'): string {
    return `http://${host}:${this.port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const upstream = this.upstream;
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', authorization: req.headers.authorization ?? '' });
    if (this.verifySecret !== undefined && !signedWith(req, this.verifySecret)) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>signature mismatch</Message></Error>');
      return;
    }
    const forward = () => {
      const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', (err) => res.destroy(err));
      req.pipe(up);
    };
    if (this.hold(req)) this.held.push(forward);
    else forward();
  }

  /** Forwards what is held and holds nothing more. */
  release(): void {
    this.hold = () => false;
    for (const forward of this.held.splice(0)) forward();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function until(what: string, test: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function segmentJob(streamId: string, seq: number): SegmentJob {
  const knobs = { qp: 24, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
  return { streamId, seq, segmentKey: segmentKey(streamId, seq), knobs, knobVersion: 0, sourceWidth: 320, sourceHeight: 240, slots: 10, bytes: 1, encodeMs: 0, probeMs: 0 };
}

async function keysMatching(redis: Pick<Redis, 'scan'>, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

describe('every variable of docs/configuration.md takes effect', () => {
  let proxy: S3Proxy;
  beforeAll(async () => {
    proxy = await S3Proxy.start(inject('s3Endpoint'));
  });
  afterAll(async () => proxy?.close());
  afterEach(() => {
    proxy.release();
    proxy.verifySecret = undefined;
    proxy.seen.length = 0;
  });

  it('REDIS_URL: the runtime talks to that Redis and database, and an unreachable one fails with one line', async () => {
    await expect(createRuntime(pipelineConfig('redis-dead', { REDIS_URL: 'redis://127.0.0.1:1' }))).rejects.toThrow(
      /^Redis unreachable at redis:\/\/127\.0\.0\.1:1: ECONNREFUSED; start redis-server or set REDIS_URL$/,
    );

    // The run's Redis, database 7 of it: what the runtime writes is there and not in database 0.
    const url = new URL(inject('redisUrl'));
    url.pathname = url.pathname === '/7' ? '/8' : '/7';
    const other = new URL(url);
    other.pathname = '/0';
    const c = pipelineConfig('redis-db', { REDIS_URL: url.href });
    const rt = await runtime(c);
    const streamId = randomPrefix('db');
    await rt.segments.add(segmentJob(streamId, 0));
    const inDb = new Redis(url.href, { lazyConnect: true });
    const inDb0 = new Redis(other.href, { lazyConnect: true });
    try {
      expect(await keysMatching(inDb, `${c.queuePrefix}:*`)).toContain(`${c.queuePrefix}:segments:${streamId}.seg.0`);
      expect(await keysMatching(inDb0, `${c.queuePrefix}:*`)).toEqual([]);
      const written = await keysMatching(inDb, `${c.queuePrefix}:*`);
      if (written.length > 0) await inDb.del(...written);
    } finally {
      inDb.disconnect();
      inDb0.disconnect();
    }
  });

  it('S3_ENDPOINT: the runtime sends its requests to that endpoint; a dead one fails at start', async () => {
    const c = pipelineConfig('endpoint', { S3_ENDPOINT: proxy.endpoint() });
    const rt = await runtime(c);
    await rt.store.put('probe.txt', 'through the configured endpoint');
    expect(proxy.seen.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([`HEAD /${c.s3.bucket}/`, `PUT /${c.s3.bucket}/`, `PUT /${c.s3.bucket}/probe.txt`]);
    // What went through the proxy is on the server behind it.
    const direct = createS3Storage({ endpoint: inject('s3Endpoint'), bucket: c.s3.bucket, ...LOCAL_S3_CREDENTIALS });
    expect((await direct.get('probe.txt')).toString()).toBe('through the configured endpoint');

    await expect(createRuntime(pipelineConfig('endpoint-dead', { S3_ENDPOINT: 'http://127.0.0.1:1' }))).rejects.toThrow(
      'S3 endpoint unreachable at http://127.0.0.1:1: ECONNREFUSED',
    );
  });

  it('S3_BUCKET: the runtime creates that bucket and keeps its objects there', async () => {
    const endpoint = inject('s3Endpoint');
    const bucket = randomPrefix('my-bucket');
    const neighbour = randomPrefix('neighbour');
    expect(await bucketExists(endpoint, bucket)).toBe(false);
    const rt = await runtime(pipelineConfig('bucket', { S3_BUCKET: bucket }));
    expect(await bucketExists(endpoint, bucket)).toBe(true);
    expect(await bucketExists(endpoint, neighbour)).toBe(false);
    await rt.store.put('k.txt', 'v');
    const direct = createS3Storage({ endpoint, bucket, ...LOCAL_S3_CREDENTIALS });
    expect((await direct.get('k.txt')).toString()).toBe('v');
  });

  it('S3_REGION: requests are signed for that region', async () => {
    await runtime(pipelineConfig('region', { S3_ENDPOINT: proxy.endpoint(), S3_REGION: 'eu-west-3' }));
    expect(proxy.seen.length).toBeGreaterThan(0);
    for (const r of proxy.seen) expect(r.authorization).toMatch(/Credential=S3RVER\/\d{8}\/eu-west-3\/s3\/aws4_request/);
  });

  it('S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: requests carry that key id and are signed with that secret; wrong keys are refused', async () => {
    // Against s3rver itself: an unknown key id is refused (it checks ids, not v4 signatures).
    await expect(createRuntime(pipelineConfig('key-id', { S3_ACCESS_KEY_ID: 'NOT-S3RVER' }))).rejects.toThrow(/HTTP 403|denied/);

    // Through the verifying proxy: the configured secret signs every request …
    proxy.verifySecret = LOCAL_S3_CREDENTIALS.secretAccessKey;
    await runtime(pipelineConfig('secret', { S3_ENDPOINT: proxy.endpoint() }));
    expect(proxy.seen.length).toBeGreaterThan(0);
    for (const r of proxy.seen) expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=S3RVER\//);
    // … and a different secret is refused.
    proxy.seen.length = 0;
    const wrong = pipelineConfig('secret-wrong', { S3_ENDPOINT: proxy.endpoint(), S3_SECRET_ACCESS_KEY: 'not-the-secret' });
    await expect(createRuntime(wrong)).rejects.toThrow(/HTTP 403|denied/);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(await bucketExists(inject('s3Endpoint'), wrong.s3.bucket)).toBe(false);
  });

  it('S3_FORCE_PATH_STYLE: true puts the bucket in the path, false in the host name', async () => {
    // On an IP endpoint the SDK always uses path style; a host name shows the difference.
    const endpoint = proxy.endpoint('localhost');
    const pathStyle = pipelineConfig('path-style', { S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true' });
    expect(pathStyle.s3.forcePathStyle).toBe(true);
    await runtime(pathStyle);
    expect(proxy.seen.length).toBeGreaterThan(0);
    for (const r of proxy.seen) {
      expect(r.host).toBe(`localhost:${proxy.port}`);
      expect(r.url.startsWith(`/${pathStyle.s3.bucket}`)).toBe(true);
    }

    proxy.seen.length = 0;
    const hostStyle = pipelineConfig('host-style', { S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'false' });
    expect(hostStyle.s3.forcePathStyle).toBe(false);
    const outcome = await createRuntime(hostStyle).then(
      async (rt) => {
        await rt.close();
        return 'started';
      },
      (err: unknown) => (err as Error).message,
    );
    // `<bucket>.localhost` does not resolve here, so nothing arrives; where it does, the
    // request names the bucket in its Host header.
    const vhost = proxy.seen.filter((r) => r.host === `${hostStyle.s3.bucket}.localhost:${proxy.port}`);
    if (proxy.seen.length === 0) expect(outcome).toBe(`S3 endpoint unreachable at ${endpoint}: ENOTFOUND`);
    else expect(vhost).toEqual(proxy.seen);
    expect(proxy.seen.filter((r) => r.url.startsWith(`/${hostStyle.s3.bucket}`))).toEqual([]);
  });

  it('ONEADAPT_QUEUE_PREFIX: queues and stream state live under that prefix only', async () => {
    const prefix = randomPrefix('qp');
    const otherPrefix = randomPrefix('qp-other');
    const rt = await runtime(pipelineConfig('prefix', { ONEADAPT_QUEUE_PREFIX: prefix }));
    const rtOther = await runtime(pipelineConfig('prefix-other', { ONEADAPT_QUEUE_PREFIX: otherPrefix }));
    const streamId = randomPrefix('prefixed');
    const knobs = { qp: 24, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
    await rt.streams.register(
      { streamId, source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'yolox-nano', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES },
      knobs,
      null,
    );
    await rt.segments.add(segmentJob(streamId, 0));

    const keys = await keysMatching(rt.redis, `*${streamId}*`);
    expect(keys).toEqual(expect.arrayContaining([`${prefix}:oa:stream:${streamId}:meta`, `${prefix}:oa:stream:${streamId}:knobs`, `${prefix}:segments:${streamId}.seg.0`]));
    expect(keys.filter((k) => !k.startsWith(`${prefix}:`))).toEqual([]);
    expect(await rt.redis.smembers(`${prefix}:oa:streams`)).toEqual([streamId]);
    // The other prefix's runtime sees none of it.
    expect(await rtOther.streams.meta(streamId)).toBeUndefined();
    expect(await rtOther.queues.segments.getJob(`${streamId}.seg.0`)).toBeUndefined();
    expect(await rt.queues.segments.getJob(`${streamId}.seg.0`)).toBeDefined();
    expect(await keysMatching(rt.redis, `${otherPrefix}:*`)).toEqual(expect.not.arrayContaining([expect.stringContaining(streamId)]));
    await rt.queues.segments.obliterate({ force: true });
    await rt.streams.forget(streamId);
  });

  describe.skipIf(noFastestDet)(`models (fastestdet at ${FASTESTDET}${noFastestDet ? ' is missing: skipped' : ''})`, () => {
    const models: LoadedModel[] = [];
    const load = async (env: Record<string, string>, log: (l: string) => void = () => undefined) => {
      const m = await loadModel(loadConfig(env), 'fastestdet', log);
      models.push(m);
      return m;
    };
    afterEach(async () => {
      await Promise.all(models.splice(0).map((m) => m.pool.close()));
    });

    it('ONEADAPT_MODELS_DIR: catalog models are looked up there, and loaded from there', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-models-'));
      try {
        expect(() => resolveModel('yolox-nano', dir)).toThrow(
          `model file for "yolox-nano" not found at ${path.join(dir, 'yolox-nano/yolox_nano.onnx')}; set ONEADAPT_MODELS_DIR to the folder holding yolox-nano/yolox_nano.onnx`,
        );
        const c = loadConfig({ ONEADAPT_MODELS_DIR: dir });
        expect(c.modelsDir).toBe(dir);
        await expect(loadModel(c, 'fastestdet')).rejects.toThrow(`model file for "fastestdet" not found at ${path.join(dir, 'fastestdet/FastestDet.onnx')}`);

        await mkdir(path.join(dir, 'fastestdet'));
        await copyFile(FASTESTDET, path.join(dir, 'fastestdet/FastestDet.onnx'));
        const m = await load({ ONEADAPT_MODELS_DIR: dir });
        expect(m.spec.path).toBe(path.join(dir, 'fastestdet/FastestDet.onnx'));
        expect(m.providers).toEqual(['cpu']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('ONEADAPT_EXECUTION_PROVIDERS: unavailable providers fall back to cpu with a log line; cpu needs none', async () => {
      for (const wanted of ['webgpu', 'cuda']) {
        const lines: string[] = [];
        const m = await load({ ONEADAPT_EXECUTION_PROVIDERS: `${wanted},cpu` }, (l) => lines.push(l));
        if (m.providers[0] === wanted) {
          // This machine has it: the session runs on it, nothing to report.
          expect(m.providers).toEqual([wanted, 'cpu']);
          expect(lines).toEqual([]);
        } else {
          expect(m.providers).toEqual(['cpu']);
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatch(new RegExp(`^execution provider\\(s\\) ${wanted} unavailable \\(.+\\); falling back to cpu$`));
        }
      }
      const lines: string[] = [];
      const m = await load({ ONEADAPT_EXECUTION_PROVIDERS: 'cpu' }, (l) => lines.push(l));
      expect(m.providers).toEqual(['cpu']);
      expect(lines).toEqual([]);
    });

    // onnxruntime's intra-op pool for a session of n threads starts n - 1 OS threads (the
    // caller is the n-th). Loading one more session in a warm pool therefore adds exactly
    // (inference threads) × (intra-op threads - 1) threads to this process.
    const threadsOf = () => readdirSync('/proc/self/task').length;
    async function threadsPerSession(m: LoadedModel): Promise<number> {
      // Another thread starting or ending meanwhile (a pool closed just before) would skew one
      // load's count: take the first count two loads in a row agree on.
      const deltas: number[] = [];
      for (let i = 1; i <= 5; i++) {
        const before = threadsOf();
        await m.pool.load(`extra-${i}`, m.spec.path);
        deltas.push(threadsOf() - before);
        if (deltas.length >= 2 && deltas.at(-1) === deltas.at(-2)) return deltas.at(-1)!;
      }
      throw new Error(`thread counts per session load never settled: ${deltas.join(', ')}`);
    }

    it.skipIf(noProcTasks)('ONEADAPT_INFERENCE_THREADS: that many inference threads each hold a session', async () => {
      const one = await load({ ONEADAPT_INFERENCE_THREADS: '1', ONEADAPT_INTRA_OP_THREADS: '2' });
      expect(await threadsPerSession(one)).toBe(1);
      const three = await load({ ONEADAPT_INFERENCE_THREADS: '3', ONEADAPT_INTRA_OP_THREADS: '2' });
      expect(await threadsPerSession(three)).toBe(3);
    });

    it.skipIf(noProcTasks)('ONEADAPT_INTRA_OP_THREADS: sessions get that many intra-op threads (default: cores ÷ inference threads)', async () => {
      expect(await threadsPerSession(await load({ ONEADAPT_INTRA_OP_THREADS: '1' }))).toBe(0);
      expect(await threadsPerSession(await load({ ONEADAPT_INTRA_OP_THREADS: '4' }))).toBe(3);
      expect(await threadsPerSession(await load({}))).toBe(os.availableParallelism() - 1);
    });

    it('ONEADAPT_WORKER_CONCURRENCY: the inference worker holds that many segment jobs at once', async () => {
      for (const concurrency of [1, 3]) {
        const streamId = randomPrefix(`conc${concurrency}`);
        // Segment downloads are held at the proxy: a job stays active until let go.
        proxy.hold = (req) => req.method === 'GET' && (req.url ?? '').includes(`/streams/${streamId}/`);
        const c = pipelineConfig(`conc${concurrency}`, { S3_ENDPOINT: proxy.endpoint(), ONEADAPT_WORKER_CONCURRENCY: String(concurrency) });
        const lines: string[] = [];
        let roles: RunningRoles | undefined;
        try {
          roles = await startRoles(c, ['worker'], { model: 'fastestdet', gradients: false, log: (l) => lines.push(l) });
          const rt = roles.runtime;
          for (let seq = 0; seq < 5; seq++) await rt.segments.add(segmentJob(streamId, seq));
          await until(`${concurrency} held downloads`, () => proxy.held.length >= concurrency);
          await new Promise((r) => setTimeout(r, 500));
          expect(proxy.held).toHaveLength(concurrency);
          expect(await rt.queues.segments.getActiveCount()).toBe(concurrency);
          expect(await rt.queues.segments.getWaitingCount()).toBe(5 - concurrency);
          // Let go: the segments are missing, so each job fails as a bad segment.
          proxy.release();
          await until('all jobs failed', async () => (await rt.queues.segments.getFailedCount()) === 5);
          expect(lines.filter((l) => l.includes('segment object missing'))).toHaveLength(5);
        } finally {
          proxy.release();
          await roles?.close();
        }
      }
    });
  });
});
