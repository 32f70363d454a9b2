import { UnrecoverableError, Worker, type ConnectionOptions, type Queue } from 'bullmq';
import { RESULT_QUEUE, SEGMENT_QUEUE, resultJobId } from '../../src/queue/names.js';
import { segmentJobSchema, type ResultJob, type SegmentJob } from '../../src/queue/schemas.js';
import { jobPayload } from '../../src/queue/job-payload.js';
import { BadSegmentError, type SegmentProcessor } from './segment-processor.js';

export interface InferenceWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  processor: SegmentProcessor;
  results: Queue;
  log?: (line: string) => void;
}

function failedResult(job: SegmentJob, reason: string): ResultJob {
  return {
    streamId: job.streamId,
    seq: job.seq,
    knobs: job.knobs,
    knobVersion: job.knobVersion,
    bytes: job.bytes,
    frames: 0,
    slots: job.slots,
    detections: 0,
    proxy: 0,
    decodeMs: 0,
    inferMs: 0,
    gradMs: 0,
    encodeMs: job.encodeMs,
    probeMs: job.probeMs,
    f1: null,
    error: reason,
  };
}

/**
 * The BullMQ side of the inference worker. A bad segment fails only its own job (the reason
 * is kept on the job) and still reports to the coordinator so the stream goes on.
 */
export function startInferenceWorker(opts: InferenceWorkerOptions): Worker {
  if (opts.results.name !== RESULT_QUEUE) throw new Error(`results queue must be "${RESULT_QUEUE}", got "${opts.results.name}"`);
  const worker = new Worker(
    SEGMENT_QUEUE,
    async (bullJob) => {
      const job = jobPayload(segmentJobSchema, bullJob.data, 'segment');
      try {
        const result = await opts.processor.process(job);
        await opts.results.add('result', result, { jobId: resultJobId(job.streamId, job.seq) });
        return { frames: result.frames, detections: result.detections, f1: result.f1 };
      } catch (err) {
        if (!(err instanceof BadSegmentError)) throw err;
        opts.log?.(`segment ${job.streamId}#${job.seq} failed: ${err.message}`);
        await opts.results.add('result', failedResult(job, err.message), { jobId: resultJobId(job.streamId, job.seq) });
        throw new UnrecoverableError(err.message);
      }
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency },
  );
  worker.on('error', (err) => opts.log?.(`inference worker: ${err.message}`));
  return worker;
}
