import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveProgress, enqueueArchives } from '../../app/enqueue.js';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { stallReport } from '../../app/stream-progress.js';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import { ingestJobId } from '../../src/queue/names.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineEnv } from '../support/pipeline-config.js';
import { loadConfig } from '../../src/config/config.js';

describe.skipIf(missingFootage(HIGHWAY))('archived footage through the ingest queue', () => {
  // The CLI below runs in its own process: it gets the same Redis, bucket and prefix by environment.
  const env = pipelineEnv('enqueue');
  const config = loadConfig(env);
  let roles: RunningRoles;
  let dir: string;

  beforeAll(async () => {
    roles = await startRoles(config, ['worker', 'coordinator', 'ingest'], { log: () => undefined });
    // A folder with two short clips (2 s and 3 s) cut from the shared footage.
    dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-archive-'));
    const media = createFfmpegMedia();
    for (const [name, seconds, start] of [['a.mp4', 2, 0], ['sub/b.mp4', 3, 10], ['long.mp4', 8, 15]] as const) {
      const frames = [];
      for await (const f of media.readFrames(HIGHWAY, { fps: 10, startS: start, durationS: seconds })) frames.push(f);
      const clip = await media.encodeFrames(frames, 10, { qp: 18, width: 320, height: 240, fps: 10 });
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), clip.data);
    }
  });
  afterAll(async () => roles?.close());

  it('turns each video of a folder into a stream, uploads it and processes every segment', async () => {
    const streams = await enqueueArchives(roles.runtime, [path.join(dir, 'a.mp4'), path.join(dir, 'sub')], { policy: 'fixed:qp=28' });
    expect(streams).toHaveLength(2);
    expect(streams.every((s) => s.source.startsWith(`s3://${config.s3.bucket}/archive/`))).toBe(true);
    // Known before any ingest starts, from each file's duration.
    expect(streams.map((s) => s.expectedSegments)).toEqual([2, 3]);
    let p = await archiveProgress(roles.runtime, streams);
    for (let i = 0; i < 900 && p.finished < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      p = await archiveProgress(roles.runtime, streams);
    }
    // If a stream is stuck, say where: its ingest job and its segments' jobs.
    if (p.finished < 2) for (const st of streams) console.error(await stallReport(roles.runtime, st.streamId, 3, 90_000), await (await roles.runtime.queues.ingest.getJob(ingestJobId(st.streamId)))?.getState());
    expect(p).toMatchObject({ done: 5, ingested: 5, total: 5, known: 5, exact: true, finished: 2, failed: [] });
    expect(p.streams.map((x) => [x.state, x.segments, x.ingested, x.analysed, x.finished])).toEqual([['ingested', 2, 2, 2, true], ['ingested', 3, 3, 3, true]]);
    for (const s of streams) {
      // The ingest records the same estimate when it registers the stream, then the exact count.
      const meta = await roles.runtime.streams.meta(s.streamId);
      expect([meta?.expectedSegments, meta?.totalSegments]).toEqual([s.expectedSegments, s.expectedSegments]);
      const rows = await roles.runtime.streams.rows(s.streamId);
      expect(rows.every((r) => r.knobs.qp === 28 && r.frames === 10 && r.error === undefined)).toBe(true);
    }
  });

  it('`enqueue --wait` shows the streams\' progress live and ends with a table per stream', async () => {
    // Its own folder: an 8-s and a 3-s clip, and a file that is no video.
    const fleet = await mkdtemp(path.join(tmpdir(), 'oneadapt-fleet-'));
    await copyFile(path.join(dir, 'long.mp4'), path.join(fleet, 'long.mp4'));
    await copyFile(path.join(dir, 'sub/b.mp4'), path.join(fleet, 'b.mp4'));
    await writeFile(path.join(fleet, 'broken.mp4'), 'these are not frames\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'enqueue', fleet, '--policy', 'fixed:qp=28', '--audit-every', '1', '--wait'], {
      env: { ...process.env, ...env, ONEADAPT_POLICY: 'fixed:' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const context = `stderr:\n${stderr}\nstdout:\n${stdout}`;

    // Each file's count is known from its duration before any ingest starts; the broken one's is not.
    expect(stderr, context).toMatch(/enqueued .*long\.mp4 as stream long-\w+ \(≈8 segments\)/);
    expect(stderr, context).toMatch(/enqueued .*b\.mp4 as stream b-\w+ \(≈3 segments\)/);
    expect(stderr, context).toMatch(/enqueued .*broken\.mp4 as stream broken-\w+\n/);
    // Not a terminal: whole lines, no bar.
    expect(stderr).not.toMatch(/[\r█]/);
    const line = /^enqueue: 3 streams \(\d+ done(?:, \d+ ingested)?(?:, \d+ ingesting)?(?:, \d+ queued)?(?:, \d+ failed)?\) · segments (?<estimate>≈?)(?<total>\d+)(?<unknown>\+\?)? · ingested (?<ingested>\d+) · analysed (?<analysed>\d+)(?: \(\d+%\))? · (?<rate>–|[\d.]+) seg\/s · ETA (?<eta>\?|\d+s|\d+m\d\ds)$/;
    const lines = stderr.split('\n').filter((l) => l.startsWith('enqueue: 3 streams'));
    const parsed = lines.map((l) => {
      const g = line.exec(l)?.groups;
      expect(g, `progress line: ${l}`).toBeDefined();
      return { estimate: g!.estimate === '≈', total: Number(g!.total), unknown: g!.unknown !== undefined, ingested: Number(g!.ingested), analysed: Number(g!.analysed), rate: g!.rate, eta: g!.eta };
    });
    expect(parsed.length, context).toBeGreaterThanOrEqual(3);
    // The first line already knows the two videos' 11 segments, from their durations.
    expect(parsed[0].total).toBe(11);
    expect(parsed[0].estimate || parsed[0].unknown).toBe(true);
    for (const [i, p] of parsed.entries()) {
      expect(p.analysed).toBeLessThanOrEqual(p.ingested);
      if (i > 0) expect(p.analysed).toBeGreaterThanOrEqual(parsed[i - 1].analysed);
    }
    // Lines in between, with a rate and an ETA once segments come in.
    const between = parsed.filter((p) => p.analysed > 0 && p.analysed < 11);
    expect(between.length, context).toBeGreaterThan(0);
    expect(between.some((p) => p.rate !== '–' && /^\d/.test(p.eta)), context).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^enqueue: 3 streams \(2 done, 1 failed\) · segments 11 · ingested 11 · analysed 11 \(100%\) · [\d.]+ seg\/s · ETA 0s$/);
    expect(stderr).toMatch(/enqueue: stream broken-\w+ failed: .*not a readable video/);
    expect(stderr.trim().split('\n').pop()).toBe('enqueue: 2 of 3 streams processed');
    expect(code).toBe(1);

    // The summary: a row per stream that ran, as `run` prints it.
    const table = stdout.trim().split('\n');
    expect(table[0].split(/\s{2,}/)).toEqual(['video', 'policy', 'segments', 'KiB', 'kbit/s', 'vs ref', 'audits', 'frames', 'F1', 'infer ms/frame', 'grad/infer', 'probe/encode', 'failed']);
    const rows = table.slice(2).map((l) => l.trim().split(/\s{2,}/));
    expect(rows.map((r) => [r[0], r[1], r[2], r[12]]).sort()).toEqual([['b.mp4', 'fixed:qp=28', '3', '0'], ['long.mp4', 'fixed:qp=28', '8', '0']]);
    for (const r of rows) {
      // Every segment audited: bytes against the reference encode (QP 28 < QP 20's) and F1.
      expect(Number(r[5].replace(/x$/, ''))).toBeGreaterThan(0.1);
      expect(Number(r[5].replace(/x$/, ''))).toBeLessThan(1);
      expect(Number(r[8])).toBeGreaterThan(0.3);
      expect(Number(r[8])).toBeLessThanOrEqual(1);
    }
  });

  it('ends the wait for a stream whose ingest job fails, with the reason', async () => {
    const bad = path.join(dir, 'notes.mp4');
    await writeFile(bad, 'these are not frames\n');
    const streams = await enqueueArchives(roles.runtime, [bad], { policy: 'fixed:' });
    let p = await archiveProgress(roles.runtime, streams);
    for (let i = 0; i < 300 && p.finished < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      p = await archiveProgress(roles.runtime, streams);
    }
    expect(p.finished).toBe(1);
    expect(p.failed.map((f) => f.streamId)).toEqual([streams[0].streamId]);
    expect(p.failed[0].reason).toMatch(/not a readable video/);
  });

  it('refuses an ingest job that names a file outside the allowed folders, or a URL', async () => {
    for (const [streamId, source] of [['local-file', '/etc/hostname'], ['a-url', 'http://127.0.0.1:1/x.mp4']]) {
      await roles.runtime.ingestJobs.add({ streamId, source, policy: 'fixed:', model: config.model });
      const job = () => roles.runtime.queues.ingest.getJob(ingestJobId(streamId));
      for (let i = 0; i < 100 && !(await (await job())?.isFailed()); i++) await new Promise((r) => setTimeout(r, 100));
      const failed = await job();
      expect([await failed?.getState(), failed?.attemptsMade]).toEqual(['failed', 1]);
      expect(failed?.failedReason).toMatch(/archive jobs read s3:\/\/.* or files under ONEADAPT_INGEST_LOCAL_DIRS \(none set\)/);
    }
  });

  it('says what it expected when there is nothing to enqueue', async () => {
    await expect(enqueueArchives(roles.runtime, [path.join(dir, 'missing')], { policy: 'fixed:' })).rejects.toThrow(/^not found: .*missing \(expected a video file, a folder of videos or s3:\/\/bucket\/prefix\)/);
  });
});
