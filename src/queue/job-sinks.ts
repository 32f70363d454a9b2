import type { Queue } from 'bullmq';
import type { IngestJob } from '../records/ingest-job.js';
import type { SegmentFailure } from '../records/segment-failure.js';
import type { ResultJob } from '../records/segment-result.js';
import type { SegmentJob } from '../records/segment-job.js';
import { ingestJobId, resultJobId, segmentJobId } from './names.js';

/** Where a role hands a record to the next one; role logic sees this, not BullMQ. */
export interface JobSink<T> {
  add(job: T): Promise<void>;
}

// Deterministic job ids: a re-delivered segment or result is one job, not two.

export function segmentSink(queue: Queue): JobSink<SegmentJob> {
  return { add: async (job) => void (await queue.add('segment', job, { jobId: segmentJobId(job.streamId, job.seq) })) };
}

export function resultSink(queue: Queue): JobSink<ResultJob> {
  return { add: async (job) => void (await queue.add('result', job, { jobId: resultJobId(job.streamId, job.seq) })) };
}

export function ingestSink(queue: Queue): JobSink<IngestJob> {
  return { add: async (job) => void (await queue.add('ingest', job, { jobId: ingestJobId(job.streamId) })) };
}

/** A failure goes where the segment's result would have: the same job id, so one of the two wins. */
export function failureSink(queue: Queue): JobSink<SegmentFailure> {
  return { add: async (job) => void (await queue.add('failure', job, { jobId: resultJobId(job.streamId, job.seq) })) };
}
