// Coordinator load: many streams' results replayed through the results queue as fast as the
// coordinator takes them; prints commits per second and the result → commit latency.
//
//   npm run test:soak            (or: npx tsx bench/coordinator-load.ts [--streams 32] [--per-stream 60] [--coordinators 1])
//
// A private redis-server (append-only, as production runs); no S3, ffmpeg or model: the
// results carry AccGrad terms as a worker would post them, so every result is one policy step.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startLocalRedis } from '../src/embedded/local-redis.js';
import { policyFromSpec } from '../src/adapt/policies.js';
import { DEFAULT_SPACES } from '../src/knobs/space.js';
import { bullConnection } from '../src/queue/connection.js';
import { RESULT_QUEUE } from '../src/queue/names.js';
import { resultSink } from '../src/queue/job-sinks.js';
import { StreamRegister } from '../src/queue/stream-register.js';
import type { ResultJob } from '../src/records/segment-result.js';
import { Coordinator } from '../workers/coordinator/coordinator.js';
import { startCoordinatorWorker } from '../workers/coordinator/results-worker.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STREAMS = arg('streams', 32);
const PER_STREAM = arg('per-stream', 60);
const COORDINATORS = arg('coordinators', 1);
const prefix = 'load';
const policy = 'oneadapt:knobs=qp+resolution';
const knobs = { qp: 20, resolution: 1, fps: 10, roi: 0, width: 768, height: 432 };
const terms = (knob: 'qp' | 'resolution', seq: number) => ({ knob, recHq: 0.01, recLq: 0.01 + 0.002 * (seq % 5), bwHq: 1, bwLq: 0.7, gpuHq: 1, gpuLq: 1 });
const result = (streamId: string, seq: number): ResultJob => ({
  streamId, seq, knobs, knobVersion: 0, bytes: 20_000, frames: 10, slots: 10, detections: 3, proxy: 2.2,
  decodeMs: 5, inferMs: 100, gradMs: 30, encodeMs: 20, probeMs: 60, f1: null, gradients: [terms('qp', seq), terms('resolution', seq)],
});

const redisServer = await startLocalRedis();
const redis = new Redis(redisServer.url);
const connection = bullConnection(redisServer.url);
const register = new StreamRegister(redis, prefix);
const ctx = { spaces: DEFAULT_SPACES, sourceWidth: 768, sourceHeight: 432 };
const ids = Array.from({ length: STREAMS }, (_, i) => `cam-${i}`);
for (const streamId of ids) {
  await register.register({ streamId, source: `${streamId}.mp4`, sourceWidth: 768, sourceHeight: 432, policy, model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, knobs, policyFromSpec(policy).initial(ctx).state);
}

const timings = { lockMs: 20_000, stalledIntervalMs: 10_000, maxStalled: 1 };
const coordinators = Array.from({ length: COORDINATORS }, () => startCoordinatorWorker({ connection, prefix, coordinator: new Coordinator(new StreamRegister(redis, prefix)), timings }));
const queue = new Queue(RESULT_QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: false } });
const sink = resultSink(queue);

// Results arrive stream by stream in seq order, interleaved across streams, as live cameras' would.
const total = STREAMS * PER_STREAM;
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
for (let seq = 0; seq < PER_STREAM; seq++) await Promise.all(ids.map((id) => sink.add(result(id, seq))));
const addedS = (performance.now() - t0) / 1000;
let consumed = 0;
while (consumed < total) {
  consumed = 0;
  for (const id of ids) consumed += (await register.lastConsumed(id)) + 1;
  await new Promise((r) => setTimeout(r, 20));
}
const seconds = (performance.now() - t0) / 1000;
const jobs = await queue.getJobs(['completed'], 0, -1);
const latencies = jobs.map((j) => (j.finishedOn ?? 0) - j.timestamp).sort((a, b) => a - b);
const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
const stale = (await Promise.all(ids.map((id) => register.policyState(id)))).reduce((s, x) => s + x.stale, 0);
const steps = (await Promise.all(ids.map((id) => register.policyState(id)))).reduce((s, x) => s + ((x.state as { moments: { qp: { t: number } } }).moments.qp.t ?? 0), 0);
const used = (await redis.info('memory')).match(/used_memory:(\d+)/)?.[1];

await Promise.all(coordinators.map((w) => w.close()));
await queue.close();
await register.close();
redis.disconnect();
await redisServer.close();

console.log(`streams          ${STREAMS} × ${PER_STREAM} results (${total}), ${COORDINATORS} coordinator(s), enqueued in ${addedS.toFixed(1)} s`);
console.log(`commits/s        ${(total / seconds).toFixed(0)}  (goal ≥ 1000)`);
console.log(`result → commit  p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${latencies[latencies.length - 1]} ms (queueing included: results arrive faster than they are taken)`);
console.log(`Adam steps       ${steps} of ${total} (stale ${stale})`);
console.log(`memory           bench process +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB rss; Redis used_memory ${((Number(used) || 0) / 2 ** 20).toFixed(1)} MiB`);
