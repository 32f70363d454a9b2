/** Queue names and deterministic job ids (BullMQ rejects ':' in custom ids). */
export const SEGMENT_QUEUE = 'segments';
export const RESULT_QUEUE = 'results';

export function segmentJobId(streamId: string, seq: number): string {
  return `${streamId}.seg.${seq}`;
}

export function resultJobId(streamId: string, seq: number): string {
  return `${streamId}.res.${seq}`;
}

/** Archived footage waiting to be cut into segments (one job per file). */
export const INGEST_QUEUE = 'ingest';

export function ingestJobId(streamId: string): string {
  return `${streamId}.ingest`;
}
