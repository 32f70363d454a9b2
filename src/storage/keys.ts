/** Digits of a segment number in keys, so that lexicographic listings are in stream order. */
export const SEQ_DIGITS = 6;

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function streamPart(streamId: string): string {
  if (!STREAM_ID.test(streamId)) {
    throw new Error(`stream id must be letters, digits, '.', '_' or '-' (not starting with a symbol), got ${JSON.stringify(streamId)}`);
  }
  return streamId;
}

export function padSeq(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`segment seq must be a non-negative integer, got ${seq}`);
  return String(seq).padStart(SEQ_DIGITS, '0');
}

export function streamPrefix(streamId: string): string {
  return `streams/${streamPart(streamId)}/`;
}

export function segmentsPrefix(streamId: string): string {
  return `${streamPrefix(streamId)}segments/`;
}

export function segmentKey(streamId: string, seq: number): string {
  return `${segmentsPrefix(streamId)}${padSeq(seq)}.mp4`;
}

export function probeKey(streamId: string, seq: number): string {
  return `${streamPrefix(streamId)}probes/${padSeq(seq)}.json`;
}

export function resultsKey(streamId: string, seq: number): string {
  return `${streamPrefix(streamId)}results/${padSeq(seq)}.jsonl`;
}

/** The same segment at the reference (highest-quality) settings, kept for accuracy audits. */
export function auditKey(streamId: string, seq: number): string {
  return `${streamPrefix(streamId)}audit/${padSeq(seq)}.mp4`;
}

/** The policy's audit: one frame of the segment at reference quality (charged to the stream). */
export function frameAuditKey(streamId: string, seq: number): string {
  return `${streamPrefix(streamId)}frame-audit/${padSeq(seq)}.mp4`;
}

const EXTENSIONS = { segments: 'mp4', probes: 'json', results: 'jsonl', audit: 'mp4', 'frame-audit': 'mp4' } as const;

export type StreamObjectKind = keyof typeof EXTENSIONS;

/** Reads a key of the layout back into its parts; undefined for keys outside it. */
export function parseStreamKey(key: string): { streamId: string; kind: StreamObjectKind; seq: number } | undefined {
  const match = /^streams\/([^/]+)\/(segments|probes|results|audit|frame-audit)\/(\d+)\.(\w+)$/.exec(key);
  if (!match) return undefined;
  const [, streamId, kind, seq, ext] = match;
  if (ext !== EXTENSIONS[kind as StreamObjectKind]) return undefined;
  return { streamId, kind: kind as StreamObjectKind, seq: Number(seq) };
}

/** `s3://bucket/some/prefix` → { bucket, prefix: 'some/prefix' }; prefix '' for a whole bucket. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!match) throw new Error(`expected an S3 URL like s3://bucket/prefix, got ${JSON.stringify(url)}`);
  const [, bucket, prefix = ''] = match;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`invalid bucket name ${JSON.stringify(bucket)} in ${url}: 3-63 lowercase letters, digits, '.' or '-'`);
  }
  return { bucket, prefix };
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
