import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { createRuntime, type Runtime } from '../../app/runtime.js';
import { StreamStalledError, waitForRows } from '../../app/stream-progress.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { RESULT_QUEUE, SEGMENT_QUEUE, resultJobId, segmentJobId } from '../../src/queue/names.js';
import type { SegmentJob } from '../../src/records/segment-job.js';
import { segmentKey } from '../../src/storage/keys.js';
import { HIGHWAY, highwaySegment, missingFootage } from '../support/footage.js';
import { missingModel } from '../support/models.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { checkStream, expectIntact, trackScenarios } from './checker.js';

const scenario = trackScenarios();

const knobs = { qp: 24, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
const meta = (streamId: string) => ({ streamId, source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:qp=24', model: 'fastestdet', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES });
const job = (streamId: string, seq: number, bytes: number): SegmentJob => ({ streamId, seq, segmentKey: segmentKey(streamId, seq), knobs, knobVersion: 0, sourceWidth: 320, sourceHeight: 240, slots: 10, bytes, encodeMs: 0, probeMs: 0 });

/** Every way a segment can fail for good still gives its stream a row, so nothing waits for it. */
describe('a segment that fails for good still closes its place in the stream', () => {
  describe('results the coordinator cannot use', () => {
    let roles: RunningRoles;
    const config = pipelineConfig('badresult');
    beforeAll(async () => {
      roles = await startRoles(config, ['coordinator'], { log: () => undefined });
    });
    afterAll(async () => roles?.close());

    it('records an error row for an invalid but attributable result (a NaN proxy arrives as null) and goes on', async () => {
      const rt = roles.runtime;
      await rt.streams.register(meta('nan-proxy'), knobs, null);
      const results = new Queue(RESULT_QUEUE, { connection: rt.connection, prefix: config.queuePrefix });
      const base = { streamId: 'nan-proxy', knobs, knobVersion: 0, bytes: 100, frames: 10, slots: 10, detections: 1, decodeMs: 1, inferMs: 1, gradMs: 0, encodeMs: 1, probeMs: 0, f1: null };
      await results.add('result', { ...base, seq: 0, proxy: JSON.parse(JSON.stringify({ v: Number.NaN })).v }, { jobId: resultJobId('nan-proxy', 0) });
      await results.add('result', { ...base, seq: 1, proxy: 2 }, { jobId: resultJobId('nan-proxy', 1) });
      await waitForRows(rt, 'nan-proxy', 2, 20_000);
      const rows = await rt.streams.rows('nan-proxy');
      expect(rows.map((r) => [r.seq, r.error === undefined])).toEqual([[0, false], [1, true]]);
      expect(rows[0].error).toMatch(/invalid result payload: proxy/);
      expect(rows[0].knobs).toEqual({ qp: 24, resolution: '320x240', fps: 10, roi: 0 });
      // The row is recorded before the commit: wait for the commit itself.
      await rt.streams.waitConsumed('nan-proxy', 1, { timeoutMs: 10_000 });
      const check = await checkStream(rt, 'nan-proxy', 2);
      scenario.figures({ faults: 1, ...check });
      expectIntact(check);
      // The bad job itself fails once, with its reason.
      const failed = await results.getFailed();
      await results.close();
      expect(failed.map((j) => [j.id, j.attemptsMade, /invalid result payload/.test(j.failedReason)])).toEqual([[resultJobId('nan-proxy', 0), 1, true]]);
    });
  });

  describe('a report that never comes', () => {
    let rt: Runtime;
    const config = pipelineConfig('stall');
    beforeAll(async () => {
      rt = await createRuntime(config);
    });
    afterAll(async () => rt?.close());

    it('fails the wait with the segments that have no row and what their jobs say', async () => {
      await rt.streams.register(meta('stalled'), knobs, null);
      await rt.segments.add(job('stalled', 0, 10));
      const err = await waitForRows(rt, 'stalled', 1, 1500).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamStalledError);
      expect((err as Error).message).toMatch(/^stream "stalled": no new result within 1500 ms, 1 of 1 segments have none — segment 0: waiting/);
    });
  });

  describe.skipIf(missingFootage(HIGHWAY) ?? missingModel('fastestdet'))('segment jobs the worker cannot finish', () => {
    let roles: RunningRoles;
    let dir: string;
    let good: Buffer;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-fail-'));
      // An ffmpeg that dies as if the OOM killer took it: the machine's fault, retried, then reported.
      const killed = path.join(dir, 'ffmpeg-killed');
      await writeFile(killed, '#!/bin/sh\nkill -9 $$\n');
      await chmod(killed, 0o755);
      good = await highwaySegment();
      const config = pipelineConfig('failjobs', { ONEADAPT_MODEL: 'fastestdet', ONEADAPT_FFMPEG_PATH: killed });
      roles = await startRoles(config, ['worker', 'coordinator'], { log: () => undefined, gradients: false });
    });
    afterAll(async () => roles?.close());

    it('an invalid but attributable segment payload: one failed job, one error row', async () => {
      const rt = roles.runtime;
      await rt.streams.register(meta('bad-payload'), knobs, null);
      const segments = new Queue(SEGMENT_QUEUE, { connection: rt.connection, prefix: rt.config.queuePrefix });
      await segments.add('segment', { streamId: 'bad-payload', seq: 0, knobs }, { jobId: segmentJobId('bad-payload', 0) });
      await waitForRows(rt, 'bad-payload', 1, 20_000);
      const [row] = await rt.streams.rows('bad-payload');
      expect(row.error).toMatch(/invalid segment payload: segmentKey/);
      // The row is recorded before the commit: wait for the commit itself.
      await rt.streams.waitConsumed('bad-payload', 0, { timeoutMs: 10_000 });
      const check = await checkStream(rt, 'bad-payload', 1);
      scenario.figures({ faults: 1, ...check });
      expectIntact(check);
      const failed = await segments.getFailed();
      await segments.close();
      expect(failed.map((j) => j.id)).toEqual([segmentJobId('bad-payload', 0)]);
    });

    it("a payload pointing at another stream's objects, or at absurd sizes: refused with the reason", async () => {
      const rt = roles.runtime;
      await rt.streams.register(meta('foreign-key'), knobs, null);
      await rt.segments.add({ ...job('foreign-key', 0, 10), segmentKey: segmentKey('someone-else', 0) });
      await rt.segments.add({ ...job('foreign-key', 1, 10), sourceWidth: 1_000_000 });
      await waitForRows(rt, 'foreign-key', 2, 20_000);
      const rows = await rt.streams.rows('foreign-key');
      expect(rows[0].error).toMatch(/segmentKey must be streams\/foreign-key\/segments\/000000\.mp4 for foreign-key#0, got "streams\/someone-else/);
      expect(rows[1].error).toMatch(/invalid segment payload: sourceWidth: .*8192/);
      const check = await checkStream(rt, 'foreign-key', 2);
      scenario.figures({ faults: 2, ...check });
      expectIntact(check);
    });

    it('a machine fault on every attempt: retried, then an error row that says so', async () => {
      const rt = roles.runtime;
      await rt.streams.register(meta('ffmpeg-dies'), knobs, null);
      await rt.store.put(segmentKey('ffmpeg-dies', 0), good);
      await rt.segments.add(job('ffmpeg-dies', 0, good.length));
      // Three attempts with 1 s and 2 s of backoff between them.
      await waitForRows(rt, 'ffmpeg-dies', 1, 30_000);
      const [row] = await rt.streams.rows('ffmpeg-dies');
      expect(row.error).toMatch(/^gave up after 3 attempt\(s\): .*SIGKILL/);
      const segmentJob = await rt.queues.segments.getJob(segmentJobId('ffmpeg-dies', 0));
      expect([await segmentJob?.getState(), segmentJob?.attemptsMade]).toEqual(['failed', 3]);
      const check = await checkStream(rt, 'ffmpeg-dies', 1);
      scenario.figures({ faults: 3, ...check });
      expectIntact(check);
    });
  });
});
