import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../app/logging.js';
import { Metrics } from '../../app/metrics/metrics.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import type { SegmentJob } from '../../src/records/segment-job.js';

const knobs = { qp: 32, resolution: 0.5, fps: 5, roi: 0, width: 160, height: 120 };

function segment(seq: number, over: Partial<SegmentJob> = {}): SegmentJob {
  return { streamId: 'cam-1', seq, segmentKey: `streams/cam-1/segments/${seq}.mp4`, knobs, knobVersion: 1, sourceWidth: 320, sourceHeight: 240, slots: 10, frames: 5, bytes: 1000, encodeMs: 40, probeMs: 0, ...over };
}

function result(seq: number, over: Partial<ResultJob> = {}): ResultJob {
  return { streamId: 'cam-1', seq, knobs, knobVersion: 1, bytes: 1000, frames: 5, slots: 10, detections: 3, proxy: 1, decodeMs: 8, inferMs: 50, gradMs: 0, encodeMs: 40, probeMs: 0, f1: null, ...over };
}

/** One sample's value from the exposition, by metric name and exact label set. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('process metrics', () => {
  it('count segments, bytes and inference per stream, model and provider', async () => {
    const m = new Metrics({ defaults: false });
    m.segmentQueued(segment(0));
    m.segmentQueued(segment(1, { frameAuditBytes: 300, probeKey: 'streams/cam-1/probes/1.json', probeMs: 120 }));
    const who = { model: 'yolox-nano', provider: 'cuda' };
    m.segmentResult(result(0), who);
    m.segmentResult(result(1, { gradients: [], gradMs: 30 }), who);
    m.segmentResult(result(2, { error: 'not a readable video', frames: 0 }), who);
    m.segmentFailure({ streamId: 'cam-2', seq: 7, error: 'bad payload' });
    const text = await m.registry.metrics();
    expect(sample(text, 'oneadapt_segments_ingested_total', 'stream="cam-1"')).toBe(2);
    expect(sample(text, 'oneadapt_stream_bytes_total', 'stream="cam-1",kind="segment"')).toBe(2000);
    expect(sample(text, 'oneadapt_stream_bytes_total', 'stream="cam-1",kind="audit"')).toBe(300);
    expect(sample(text, 'oneadapt_probe_seconds_count', '')).toBe(1);
    expect(sample(text, 'oneadapt_probe_seconds_sum', '')).toBeCloseTo(0.12, 9);
    expect(sample(text, 'oneadapt_segments_processed_total', 'stream="cam-1"')).toBe(2);
    expect(sample(text, 'oneadapt_segments_failed_total', 'stream="cam-1"')).toBe(1);
    expect(sample(text, 'oneadapt_segments_failed_total', 'stream="cam-2"')).toBe(1);
    // A failed segment inferred nothing; only the probed one ran the gradient pass.
    expect(sample(text, 'oneadapt_inference_count', 'model="yolox-nano",provider="cuda"')).toBe(10);
    expect(sample(text, 'oneadapt_inference_compute_seconds_count', 'model="yolox-nano",provider="cuda"')).toBe(2);
    expect(sample(text, 'oneadapt_inference_compute_seconds_sum', 'model="yolox-nano",provider="cuda"')).toBeCloseTo(0.1, 9);
    expect(sample(text, 'oneadapt_inference_gradient_seconds_count', 'model="yolox-nano",provider="cuda"')).toBe(1);
  });

  it('hold each stream\'s current knobs and last audited F1', async () => {
    const m = new Metrics({ defaults: false });
    m.policyStep({ streamId: 'cam-1', seq: 0, stepped: true, knobs: { ...knobs, qp: 28 }, auditF1: 0.75 });
    m.policyStep({ streamId: 'cam-1', seq: 1, stepped: true, knobs, auditF1: null });
    m.policyStep({ streamId: 'cam-1', seq: 2, stepped: false, knobs, auditF1: null });
    const text = await m.registry.metrics();
    expect(sample(text, 'oneadapt_stream_knob', 'stream="cam-1",knob="qp"')).toBe(32);
    expect(sample(text, 'oneadapt_stream_knob', 'stream="cam-1",knob="resolution"')).toBe(0.5);
    expect(sample(text, 'oneadapt_stream_knob', 'stream="cam-1",knob="fps"')).toBe(5);
    // A step without an audit keeps the last audit's figure.
    expect(sample(text, 'oneadapt_stream_audit_f1', 'stream="cam-1"')).toBe(0.75);
    expect(sample(text, 'oneadapt_policy_steps_total', 'stream="cam-1",outcome="stepped"')).toBe(2);
    expect(sample(text, 'oneadapt_policy_steps_total', 'stream="cam-1",outcome="failed"')).toBe(1);
  });
});

describe('process logs', () => {
  const capture = () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    return { out, text: () => text };
  };

  it('are JSON lines with role, stream, seq and jobId when no terminal reads them', () => {
    const c = capture();
    const { log } = createLogger({ role: 'worker', destination: c.out, tty: false });
    log('segment cam-1#4 failed: not a readable video', { stream: 'cam-1', seq: 4, jobId: 'cam-1.seg.4', level: 'warn' });
    log('debug detail', { level: 'debug' });
    const lines = c.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // The debug line is below the default level.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ role: 'worker', stream: 'cam-1', seq: 4, jobId: 'cam-1.seg.4', level: 40, msg: 'segment cam-1#4 failed: not a readable video' });
    expect(Number.isNaN(Date.parse(String(lines[0].time)))).toBe(false);
  });

  it('are one readable line each when asked to be', () => {
    const c = capture();
    const { log } = createLogger({ role: 'coordinator', format: 'pretty', destination: c.out, tty: false });
    log('stream cam-1: knobs v2 qp=32 160x120 5fps roi+0 from segment 3', { stream: 'cam-1', seq: 2 });
    const text = c.text();
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toMatch(/INFO.*stream cam-1: knobs v2 qp=32/);
    expect(() => JSON.parse(text) as unknown).toThrow();
  });
});
