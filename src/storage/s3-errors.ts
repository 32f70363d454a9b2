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
  cause?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
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

/** Which of the HTTP handler's limits ended the request, if one did (@smithy/node-http-handler's TimeoutErrors). */
export function timeoutKind(err: unknown, depth = 0): 'connect' | 'request' | 'idle' | undefined {
  const e = err as SdkErrorShape | undefined;
  if (!e || depth > 5) return undefined;
  if (e.name === 'TimeoutError') {
    const message = e.message ?? '';
    if (/did not establish a connection/.test(message)) return 'connect';
    if (/requestTimeout/.test(message)) return 'request';
    if (/of inactivity/.test(message)) return 'idle';
  }
  for (const inner of [...(e.errors ?? []), ...(e.cause === undefined ? [] : [e.cause])]) {
    const kind = timeoutKind(inner, depth + 1);
    if (kind) return kind;
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

export interface S3ErrorContext {
  endpoint: string;
  op: string;
  bucket: string;
  key?: string;
  /** The client's limits, to say which one ran out. */
  limits?: { connectTimeoutMs: number; requestTimeoutMs: number; maxAttempts: number };
}

/** One line saying what failed, where, and what to check. */
export function describeS3Error(err: unknown, at: S3ErrorContext): Error {
  const e = (err ?? {}) as SdkErrorShape;
  const where = at.key === undefined ? `s3://${at.bucket}` : s3Url(at.bucket, at.key);
  const network = networkErrorCode(err);
  const timeout = timeoutKind(err);
  // The SDK records how many attempts it made; a body that stalls after the headers is not retried (none recorded).
  const attempts = e.$metadata?.attempts;
  const tries = attempts === undefined ? '' : `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  // The SDK's message carries the limit in ms when the client's limits are not given.
  const ms = (limit: number | undefined) => `${limit ?? /(\d+) ms/.exec(e.message ?? '')?.[1] ?? '?'} ms`;
  let message: string;
  if (timeout === 'connect') {
    message = `S3 endpoint unreachable at ${at.endpoint}: no connection within ${ms(at.limits?.connectTimeoutMs)} (${at.op} ${where}${tries && `, ${tries}`})`;
  } else if (timeout) {
    const what = timeout === 'request' ? 'no response within' : 'connection idle for';
    message = `S3 ${at.op} ${where} timed out: ${what} ${ms(at.limits?.requestTimeoutMs)} (${[tries, `endpoint ${at.endpoint}`].filter(Boolean).join(', ')})`;
  } else if (network) message = `S3 endpoint unreachable at ${at.endpoint}: ${network}`;
  else if (isMissingBucket(err)) message = `bucket not found: s3://${at.bucket} (create it first, e.g. with ensureBucket())`;
  else if (isNotFound(err) && at.key !== undefined) message = `object not found: ${where}`;
  else if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(e.name ?? '')) {
    message = `S3 ${at.op} ${where} denied (${e.name}): check the access key, secret and bucket policy`;
  } else {
    const status = e.$metadata?.httpStatusCode ? ` HTTP ${e.$metadata.httpStatusCode}` : '';
    const detail = (e.message ?? String(err)).split('\n')[0];
    const retried = (e.$metadata?.attempts ?? 1) > 1 ? ` after ${e.$metadata?.attempts} attempts` : '';
    message = `S3 ${at.op} ${where} failed (${e.name ?? 'Error'}${status})${retried}: ${detail}`;
  }
  return new Error(message, { cause: err });
}
