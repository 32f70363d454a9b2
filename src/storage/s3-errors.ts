import { s3Url } from './keys.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/** The socket-level code of a failed request, looking inside AggregateErrors (IPv6+IPv4 tries). */
export function networkErrorCode(err: unknown): string | undefined {
  const e = err as SdkErrorShape | undefined;
  if (!e) return undefined;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError') return 'TimeoutError';
  for (const inner of e.errors ?? []) {
    const code = networkErrorCode(inner);
    if (code) return code;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  const e = err as SdkErrorShape | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (e?.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket');
}

export function isMissingBucket(err: unknown): boolean {
  return (err as SdkErrorShape | undefined)?.name === 'NoSuchBucket';
}

/** One line saying what failed, where, and what to check. */
export function describeS3Error(err: unknown, at: { endpoint: string; op: string; bucket: string; key?: string }): Error {
  const e = (err ?? {}) as SdkErrorShape;
  const where = at.key === undefined ? `s3://${at.bucket}` : s3Url(at.bucket, at.key);
  const network = networkErrorCode(err);
  let message: string;
  if (network) message = `S3 endpoint unreachable at ${at.endpoint}: ${network}`;
  else if (isMissingBucket(err)) message = `bucket not found: s3://${at.bucket} (create it first, e.g. with ensureBucket())`;
  else if (isNotFound(err) && at.key !== undefined) message = `object not found: ${where}`;
  else if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(e.name ?? '')) {
    message = `S3 ${at.op} ${where} denied (${e.name}): check the access key, secret and bucket policy`;
  } else {
    const status = e.$metadata?.httpStatusCode ? ` HTTP ${e.$metadata.httpStatusCode}` : '';
    const detail = (e.message ?? String(err)).split('\n')[0];
    message = `S3 ${at.op} ${where} failed (${e.name ?? 'Error'}${status}): ${detail}`;
  }
  return new Error(message, { cause: err });
}
