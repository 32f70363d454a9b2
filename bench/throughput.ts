// Pipeline throughput vs a bare onnxruntime-node loop, on the same frames, in one run.
//
//   npx tsx bench/throughput.ts [video] [--segments n]
//   (ONEADAPT_WORKER_CONCURRENCY, ONEADAPT_INFERENCE_THREADS, ONEADAPT_INTRA_OP_THREADS and
//   ONEADAPT_FFMPEG_PATH shape the pipeline side)
//
// The bare loop runs session.run back to back on pre-decoded, pre-processed frames (the
// ceiling). The pipeline drains segments already in S3 and queued: download, decode (ffmpeg),
// pre-process, inference in worker threads, detections to S3, results through BullMQ to the
// coordinator. Both use the same model, execution providers and intra-op threads.
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ensureServices } from '../app/embedded-services.js';
import { startRoles } from '../app/roles.js';
import { createRuntime } from '../app/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { projectRoot, resolveModel } from '../src/models/catalog.js';
import { startStream } from '../workers/ingest/start-stream.js';
import { streamDefaults } from '../workers/ingest/stream-options.js';

const args = process.argv.slice(2);
const video = args.find((a) => !a.startsWith('--')) ?? path.resolve(projectRoot(), '../shared/footage/highway-320x240.avi');
const segIdx = args.indexOf('--segments');
const maxSegments = segIdx >= 0 ? Number(args[segIdx + 1]) : 20;
const quiet = () => undefined;

const services = await ensureServices(loadConfig({ ...process.env, ONEADAPT_WORKER_CONCURRENCY: process.env.ONEADAPT_WORKER_CONCURRENCY ?? '2' }));
const config = services.config;
const rt = await createRuntime(config);
const spec = resolveModel(config.model, config.modelsDir);

// 1. Segments into S3 and the queue, with no worker running yet (reference knobs, no waiting).
await rt.queues.segments.pause();
const deps = { media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, modelsDir: config.modelsDir };
const stream = await startStream(deps, streamDefaults(config), { source: video, policy: 'fixed:', lockstep: false, maxSegments });
const ingest = await stream.done;
const streamId = stream.streamId;
const info = { width: stream.meta.sourceWidth, height: stream.meta.sourceHeight };

// 2. The same frames through a bare loop: decode and pre-process outside the clock.
const fit = spec.fitSize(info.width, info.height);
const tensors: Float32Array[] = [];
for (let seq = 0; seq < ingest.segments; seq++) {
  const data = await rt.store.get(`streams/${streamId}/segments/${String(seq).padStart(6, '0')}.mp4`);
  const [frames] = await rt.media.decodeMany([data], fit);
  for (const f of frames) tensors.push(spec.toTensor(f, fit));
}
const session = await ort.InferenceSession.create(spec.path, {
  executionProviders: config.executionProviders,
  // The ceiling: one session using every core, as a plain onnxruntime-node loop would.
  intraOpNumThreads: os.availableParallelism(),
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
});
const dims = [1, 3, spec.inputHeight, spec.inputWidth];
for (let i = 0; i < 5; i++) await session.run({ [spec.inputName]: new ort.Tensor('float32', tensors[i % tensors.length], dims) });
// Timed before and after the pipeline: the machine's speed drifts, the mean is the ceiling.
const bareLoop = async (): Promise<number> => {
  const t = performance.now();
  for (const x of tensors) await session.run({ [spec.inputName]: new ort.Tensor('float32', x, dims) });
  return (performance.now() - t) / 1000;
};
const bareBefore = await bareLoop();

// 3. The pipeline drains the queue.
const roles = await startRoles(config, ['worker', 'coordinator'], { log: quiet });
const t0 = performance.now();
await rt.queues.segments.resume();
while ((await rt.streams.rowCount(streamId)) < ingest.segments) await new Promise((r) => setTimeout(r, 5));
const pipeS = (performance.now() - t0) / 1000;
const rows = await rt.streams.rows(streamId);
const frames = rows.reduce((s, r) => s + r.frames, 0);
await roles.close();
const bareAfter = await bareLoop();
await session.release();
await rt.close();
await services.close();

const bareFps = tensors.length / ((bareBefore + bareAfter) / 2);
const pipeFps = frames / pipeS;
console.log(`video            ${path.basename(video)} (${info.width}x${info.height}), ${ingest.segments} segments, ${tensors.length} frames`);
console.log(`model            ${spec.name} on ${config.executionProviders.join(',')}`);
console.log(`bare loop        ${bareFps.toFixed(1)} frames/s  (before ${(tensors.length / bareBefore).toFixed(1)}, after ${(tensors.length / bareAfter).toFixed(1)})`);
console.log(
  `pipeline         ${pipeFps.toFixed(1)} frames/s  (worker concurrency ${config.workerConcurrency}, ${config.inferenceThreads} inference thread(s) × ${config.intraOpThreads ?? Math.max(1, Math.floor(os.availableParallelism() / config.inferenceThreads))} intra-op, ${rows.filter((r) => r.error).length} failed)`,
);
console.log(`ratio            ${(pipeFps / bareFps).toFixed(3)}  (pipeline ÷ bare; goal ≥ 0.9)`);
