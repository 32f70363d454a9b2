import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { observeProcess } from '../../app/observability.js';
import { runVideos } from '../../app/run-job.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.skipIf(missingFootage(HIGHWAY))('a run serves /metrics, /healthz and /readyz', () => {
  it('counts what the pipeline did, per stream, and says when it is ready', async () => {
    const port = await freePort();
    const config = pipelineConfig('metrics', { ONEADAPT_METRICS_PORT: String(port), ONEADAPT_LOG_FORMAT: 'json' });
    const lines: string[] = [];
    const seen = await observeProcess(config, 'run');
    expect(seen.port).toBe(port);
    try {
      // Nothing to report on yet: alive, not ready.
      expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
      expect(await get(port, '/readyz')).toEqual({ status: 503, body: 'starting\n' });
      let midRun: Promise<[{ status: number; body: string }, { status: number; body: string }]> | undefined;
      const [report] = await runVideos(config, {
        videos: [HIGHWAY],
        policy: 'script:1@qp=32,resolution=0.5',
        maxSegments: 4,
        metrics: seen.metrics,
        onRuntime: (rt) => seen.attach(rt),
        // Scraped while the queues exist, once a segment is through.
        onProgress: (done) => {
          if (done >= 1) midRun ??= Promise.all([get(port, '/readyz'), get(port, '/metrics')]);
        },
        log: (l) => void lines.push(l),
      });
      expect(midRun).toBeDefined();
      const [ready, during] = await midRun!;
      expect(ready.status).toBe(200);
      expect(during.body).toMatch(/^bullmq_job_count\{queue="segments", state="completed"\} [1-4]$/m);
      expect(during.body).toMatch(/^bullmq_job_count\{queue="results", state="waiting"\} \d+$/m);

      const text = (await get(port, '/metrics')).body;
      const stream = `stream="${report.streamId}"`;
      expect(sample(text, 'oneadapt_segments_ingested_total', stream)).toBe(4);
      expect(sample(text, 'oneadapt_segments_processed_total', stream)).toBe(4);
      expect(sample(text, 'oneadapt_segments_failed_total', stream)).toBeUndefined();
      expect(sample(text, 'oneadapt_stream_bytes_total', `${stream},kind="segment"`)).toBe(report.perSegment.reduce((s, r) => s + r.bytes, 0));
      expect(sample(text, 'oneadapt_inference_count', 'model="yolox-nano",provider="cpu"')).toBe(report.perSegment.reduce((s, r) => s + r.frames, 0));
      expect(sample(text, 'oneadapt_inference_compute_seconds_count', 'model="yolox-nano",provider="cpu"')).toBe(4);
      expect(sample(text, 'oneadapt_inference_compute_seconds_sum', 'model="yolox-nano",provider="cpu"')).toBeCloseTo(report.totals.inferMs / 1000, 6);
      expect(sample(text, 'oneadapt_policy_steps_total', `${stream},outcome="stepped"`)).toBe(4);
      // The knobs the script set after segment 1 are the stream's knobs now.
      expect(sample(text, 'oneadapt_stream_knob', `${stream},knob="qp"`)).toBe(32);
      expect(sample(text, 'oneadapt_stream_knob', `${stream},knob="resolution"`)).toBe(0.5);
      expect(text).toMatch(/^oneadapt_process_resident_memory_bytes \d+/m);

      // Stopping: out of rotation, still alive; a lost Redis: not alive either.
      seen.drain();
      expect(await get(port, '/readyz')).toEqual({ status: 503, body: 'draining\n' });
      expect((await get(port, '/healthz')).status).toBe(200);
      seen.fail('Redis lost its state');
      expect(await get(port, '/healthz')).toEqual({ status: 503, body: 'Redis lost its state\n' });
      expect((await get(port, '/nope')).status).toBe(404);
    } finally {
      await seen.close();
    }
    // Port 0 turns the endpoints off.
    const off = await observeProcess(pipelineConfig('metrics-off', { ONEADAPT_METRICS_PORT: '0' }), 'run');
    expect(off.port).toBeUndefined();
    await off.close();
  });
});
