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

/** The BullMQ names of the three queues. */
export interface QueueNames {
  segments: string;
  results: string;
  ingest: string;
}

/**
 * The queues' names on one Redis: the plain ones, so keys stay `<prefix>:segments:wait` and so
 * on. On a Redis Cluster each name is its own hash tag (`{segments}`: keys
 * `<prefix>:{segments}:wait`, …): BullMQ's scripts touch several keys of one queue at once,
 * which a cluster allows only within one slot, and with one tag per queue (not one for the
 * prefix) the queues land on different slots, spread over the masters. No atomic step needs a
 * queue key and a stream key together (see docs/architecture.md), so they need no common slot.
 */
export function queueNames(cluster: boolean): QueueNames {
  const name = (base: string) => (cluster ? `{${base}}` : base);
  return { segments: name(SEGMENT_QUEUE), results: name(RESULT_QUEUE), ingest: name(INGEST_QUEUE) };
}
