import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { isPermanent } from '../../src/errors.js';
import { jobPayload } from '../../src/queue/job-payload.js';
import type { JobSink } from '../../src/queue/job-sinks.js';
import { SEGMENT_QUEUE } from '../../src/queue/names.js';
import { segmentJobSchema, type SegmentJob } from '../../src/records/segment-job.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import type { SegmentProcessor } from './segment-processor.js';

export interface InferenceWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  processor: SegmentProcessor;
  results: JobSink<ResultJob>;
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
 * The BullMQ side of the inference worker. A bad segment (a permanent error) fails only its
 * own job, with the reason kept on the job, and still reports to the coordinator so the
 * stream goes on; other errors are retried.
 */
export function startInferenceWorker(opts: InferenceWorkerOptions): Worker {
  const worker = new Worker(
    SEGMENT_QUEUE,
    async (bullJob) => {
      const job = jobPayload(segmentJobSchema, bullJob.data, 'segment');
      try {
        const result = await opts.processor.process(job);
        await opts.results.add(result);
        return { frames: result.frames, detections: result.detections, f1: result.f1 };
      } catch (err) {
        if (!isPermanent(err)) throw err;
        opts.log?.(`segment ${job.streamId}#${job.seq} failed: ${err.message}`);
        await opts.results.add(failedResult(job, err.message));
        throw new UnrecoverableError(err.message);
      }
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency },
  );
  worker.on('error', (err) => opts.log?.(`inference worker: ${err.message}`));
  return worker;
}
