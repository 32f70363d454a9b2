import { describe, expect, it } from 'vitest';
import { streamsLine, streamsProgress, formatDuration, SegmentRate, type StreamsSnapshot } from '../../app/cli/progress.js';
import { loadConfig } from '../../src/config/config.js';
import { COCO_CLASSES } from '../../src/models/coco.js';
import { yoloxSpec } from '../../src/models/yolox.js';
import { compileStream, expectedSegments, streamDefaults } from '../../workers/ingest/stream-options.js';

type State = 'queued' | 'ingesting' | 'ingested' | 'failed';
/** A set of streams, each [state, segments, analysed]; finished when all its segments are analysed or it failed. */
function streams(list: [State, number | undefined, number][], exact = false): StreamsSnapshot {
  const per = list.map(([state, segments, analysed]) => ({ state, segments, analysed, finished: state === 'failed' || (state === 'ingested' && analysed === segments) }));
  const unknown = per.some((p) => p.segments === undefined);
  return {
    streams: per,
    done: per.reduce((s, p) => s + p.analysed, 0),
    ingested: per.reduce((s, p) => s + p.analysed, 0),
    total: unknown ? undefined : per.reduce((s, p) => s + p.segments!, 0),
    known: per.reduce((s, p) => s + (p.segments ?? 0), 0),
    exact,
    finished: per.filter((p) => p.finished).length,
    failed: per.filter((p) => p.state === 'failed'),
  };
}

describe('enqueue --wait progress', () => {
  it('says what is known: a sum with unknowns, an estimate, an exact count', () => {
    expect(streamsLine(streams([['ingesting', 10, 2], ['queued', undefined, 0]]), undefined)).toBe('2 streams (0 done, 1 ingesting, 1 queued) · segments 10+? · ingested 2 · analysed 2 · – seg/s · ETA ?');
    expect(streamsLine(streams([['ingesting', 200, 50], ['queued', 22, 0]]), 2.5)).toBe('2 streams (0 done, 1 ingesting, 1 queued) · segments ≈222 · ingested 50 · analysed 50 (22%) · 2.50 seg/s · ETA 1m09s');
    expect(streamsLine(streams([['ingested', 5, 5], ['failed', 0, 0]], true), 12)).toBe('2 streams (1 done, 1 failed) · segments 5 · ingested 5 · analysed 5 (100%) · 12.0 seg/s · ETA 0s');
    expect(streamsLine(streams([['ingested', 5, 3]], true), 1)).toBe('1 stream (0 done, 1 ingested) · segments 5 · ingested 3 · analysed 3 (60%) · 1.00 seg/s · ETA 2s');
  });

  it('measures the rate over a sliding window', () => {
    const r = new SegmentRate(10_000);
    r.add(0, 0);
    expect(r.perSecond()).toBeUndefined();
    r.add(500, 1);
    expect(r.perSecond()).toBeUndefined(); // under a second of history
    r.add(2000, 4);
    expect(r.perSecond()).toBeCloseTo(2);
    // Fast at first, then slow: the window forgets the start.
    for (let t = 3000; t <= 30_000; t += 1000) r.add(t, 4 + Math.floor((t - 2000) / 2000));
    expect(r.perSecond()).toBeCloseTo(0.5, 1);
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(245)).toBe('4m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });

  it('without a terminal writes a line per tenth, per finished stream, at most every lineEveryMs otherwise, and the last state', () => {
    const out: string[] = [];
    let t = 0;
    const view = streamsProgress('enqueue', { tty: false, write: (l) => out.push(l), now: () => t, lineEveryMs: 10_000 });
    for (let done = 0; done <= 40; done++) {
      view.update(streams([['ingesting', 100, done]]));
      t += 1000;
    }
    // 0%, 10%, 20%, 30%, 40%: one line each, whole lines.
    expect(out.map((l) => /analysed (\d+) /.exec(l)?.[1])).toEqual(['0', '10', '20', '30', '40']);
    expect(out.every((l) => l.startsWith('enqueue: 1 stream ') && l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(out[4]).toMatch(/1\.00 seg\/s · ETA 1m00s\n$/);
    // Slow progress within a tenth: a line after lineEveryMs, not before.
    out.length = 0;
    for (let i = 0; i < 12; i++) {
      view.update(streams([['ingesting', 1000, 41 + i]]));
      t += 1000;
    }
    expect(out).toHaveLength(1);
    view.update(streams([['ingested', 100, 100]], true));
    view.stop();
    expect(out[out.length - 1]).toMatch(/^enqueue: 1 stream \(1 done\) · segments 100 · ingested 100 · analysed 100 \(100%\) · .* · ETA 0s\n$/);
  });

  it('on a terminal redraws one bar in place, cut to the width, and ends the line', () => {
    const out: string[] = [];
    const view = streamsProgress('enqueue', { tty: true, write: (l) => out.push(l), now: () => 0, columns: 80 });
    view.update(streams([['ingesting', 8, 2]]));
    view.update(streams([['ingesting', 8, 4]]));
    view.stop();
    expect(out).toHaveLength(3);
    expect(out[0].startsWith('\r\x1b[Kenqueue ██████░░░░░░░░░░░░░░░░░░ 1 stream')).toBe(true);
    expect(out[1].startsWith('\r\x1b[Kenqueue ████████████░░░░░░░░░░░░ 1 stream')).toBe(true);
    expect(out[1].length).toBe('\r\x1b[K'.length + 79);
    expect(out[2]).toBe('\n');
  });

  it('knows a file\'s segments up front from its duration (the partial last one counts), a live source\'s not', () => {
    expect(expectedSegments(30, 1, 10)).toBe(30);
    expect(expectedSegments(8.84, 1, 10)).toBe(9);
    expect(expectedSegments(1.52, 1, 10)).toBe(2);
    expect(expectedSegments(0.04, 1, 10)).toBe(1);
    expect(expectedSegments(30, 2, 5)).toBe(15);
    expect(expectedSegments(30, 1, 10, 12)).toBe(12);
    expect(expectedSegments(Infinity, 1, 10)).toBeUndefined();
    const model = yoloxSpec({ name: 'yolox-nano', path: '/m.onnx', size: 416, classNames: [...COCO_CLASSES] });
    const info = { width: 320, height: 240, fps: 25, durationS: 222.3, codec: 'h264' };
    const defaults = streamDefaults(loadConfig({}));
    expect(compileStream({ source: '/v/cam.mp4' }, defaults, info, model, false).meta.expectedSegments).toBe(223);
    expect(compileStream({ source: '/v/cam.mp4', maxSegments: 10 }, defaults, info, model, false).meta.expectedSegments).toBe(10);
    expect(compileStream({ source: 'rtsp://cam/1' }, defaults, { ...info, durationS: Infinity }, model, true).meta).not.toHaveProperty('expectedSegments');
  });
});
