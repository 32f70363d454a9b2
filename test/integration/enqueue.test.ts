import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveProgress, enqueueArchives } from '../../app/enqueue.js';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { stallReport } from '../../app/stream-progress.js';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import { ingestJobId } from '../../src/queue/names.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';

describe.skipIf(missingFootage(HIGHWAY))('archived footage through the ingest queue', () => {
  const config = pipelineConfig('enqueue');
  let roles: RunningRoles;
  let dir: string;

  beforeAll(async () => {
    roles = await startRoles(config, ['worker', 'coordinator', 'ingest'], { log: () => undefined });
    // A folder with two short clips (2 s and 3 s) cut from the shared footage.
    dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-archive-'));
    const media = createFfmpegMedia();
    for (const [name, seconds, start] of [['a.mp4', 2, 0], ['sub/b.mp4', 3, 10]] as const) {
      const frames = [];
      for await (const f of media.readFrames(HIGHWAY, { fps: 10, startS: start, durationS: seconds })) frames.push(f);
      const clip = await media.encodeFrames(frames, 10, { qp: 18, width: 320, height: 240, fps: 10 });
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), clip.data);
    }
  });
  afterAll(async () => roles?.close());

  it('turns each video of a folder into a stream, uploads it and processes every segment', async () => {
    const streams = await enqueueArchives(roles.runtime, [dir], { policy: 'fixed:qp=28' });
    expect(streams).toHaveLength(2);
    expect(streams.every((s) => s.source.startsWith(`s3://${config.s3.bucket}/archive/`))).toBe(true);
    let p = await archiveProgress(roles.runtime, streams);
    for (let i = 0; i < 900 && p.finished < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      p = await archiveProgress(roles.runtime, streams);
    }
    // If a stream is stuck, say where: its ingest job and its segments' jobs.
    if (p.finished < 2) for (const st of streams) console.error(await stallReport(roles.runtime, st.streamId, 3, 90_000), await (await roles.runtime.queues.ingest.getJob(ingestJobId(st.streamId)))?.getState());
    expect(p).toEqual({ done: 5, total: 5, finished: 2, failed: [] });
    for (const s of streams) {
      const rows = await roles.runtime.streams.rows(s.streamId);
      expect(rows.every((r) => r.knobs.qp === 28 && r.frames === 10 && r.error === undefined)).toBe(true);
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
