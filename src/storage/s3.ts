import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Url } from './keys.js';
import { describeS3Error, isMissingBucket, isNotFound } from './s3-errors.js';
import type { ObjectStore } from './types.js';

export interface S3StorageConfig {
  /** Unset for AWS; set for MinIO, s3rver, Ceph, R2 … */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both or neither; neither → the SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Defaults to true when `endpoint` is set (most non-AWS stores have no virtual-host buckets). */
  forcePathStyle?: boolean;
  /** Milliseconds to establish the TCP (and TLS) connection; default DEFAULT_S3_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /**
   * Milliseconds one attempt may wait for the response headers (the request body is sent within
   * this time), and the longest the connection may then stay idle while the body is read;
   * default DEFAULT_S3_REQUEST_TIMEOUT_MS (ONEADAPT_S3_TIMEOUT_MS).
   */
  requestTimeoutMs?: number;
  /** Tries per operation, the first included (the SDK's maxAttempts); default DEFAULT_S3_ATTEMPTS (ONEADAPT_S3_ATTEMPTS). */
  maxAttempts?: number;
}

/**
 * Defaults. Objects here are segments (≤ a few MB), probe bundles and result lines, and multipart
 * parts of MULTIPART_THRESHOLD; S3 and MinIO answer in well under a second. 30 s per attempt
 * still lets an 8 MB part go up at ~2 Mbit/s, yet a stalled connection is given up in seconds
 * rather than never; 3 s to connect is many round trips even across regions. 3 attempts (the
 * SDK's own default) ride out a dropped connection or a 503 SlowDown, and bound an operation
 * against a dead store to ~3 × (connect + request) plus sub-second back-off.
 */
export const DEFAULT_S3_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_S3_ATTEMPTS = 3;

/** Bodies above this go through multipart upload. */
export const MULTIPART_THRESHOLD = 8 * 1024 * 1024;

function isAwsEndpoint(endpoint: string | undefined): boolean {
  return endpoint === undefined || /\.amazonaws\.com(\.cn)?$/.test(new URL(endpoint).hostname);
}

export function createS3Client(cfg: S3StorageConfig): S3Client {
  if (Boolean(cfg.accessKeyId) !== Boolean(cfg.secretAccessKey)) {
    throw new Error('S3 credentials need both accessKeyId and secretAccessKey (or neither, for the default chain)');
  }
  const aws = isAwsEndpoint(cfg.endpoint);
  const { connectTimeoutMs, requestTimeoutMs, maxAttempts } = s3Limits(cfg);
  return new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: cfg.forcePathStyle ?? cfg.endpoint !== undefined,
    credentials:
      cfg.accessKeyId && cfg.secretAccessKey
        ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey }
        : undefined,
    // Non-AWS stores (s3rver, older MinIO) would store the SDK's default streaming checksum
    // framing as part of the object body.
    ...(aws ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    // A dead endpoint should fail within seconds, not after minutes of back-off.
    maxAttempts,
    requestHandler: {
      connectionTimeout: connectTimeoutMs,
      // Without throwOnRequestTimeout this SDK only logs a warning when requestTimeout passes.
      // It covers an attempt up to the response headers; socketTimeout (idle) covers the body.
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeoutMs,
    },
  });
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`S3 ${name} must be a positive integer, got ${value}`);
  return value;
}

/** The configured (or default) timeouts and attempts. */
export function s3Limits(cfg: S3StorageConfig): { connectTimeoutMs: number; requestTimeoutMs: number; maxAttempts: number } {
  return {
    connectTimeoutMs: positiveInteger(cfg.connectTimeoutMs, DEFAULT_S3_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
    requestTimeoutMs: positiveInteger(cfg.requestTimeoutMs, DEFAULT_S3_REQUEST_TIMEOUT_MS, 'requestTimeoutMs'),
    maxAttempts: positiveInteger(cfg.maxAttempts, DEFAULT_S3_ATTEMPTS, 'maxAttempts'),
  };
}

export function createS3Storage(cfg: S3StorageConfig): ObjectStore {
  const client = createS3Client(cfg);
  const { bucket } = cfg;
  const endpoint = cfg.endpoint ?? `https://s3.${cfg.region}.amazonaws.com`;
  const limits = s3Limits(cfg);
  const fail = (err: unknown, op: string, key?: string) => describeS3Error(err, { endpoint, op, bucket, key, limits });

  async function getOrUndefined(key: string): Promise<Buffer | undefined> {
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw fail(err, 'get', key);
    }
  }

  return {
    bucket,

    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        if (!isNotFound(err) && !isMissingBucket(err)) throw fail(err, 'head bucket');
      }
      try {
        const outsideUsEast1 = cfg.endpoint === undefined && cfg.region !== 'us-east-1';
        await client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            ...(outsideUsEast1
              ? { CreateBucketConfiguration: { LocationConstraint: cfg.region as BucketLocationConstraint } }
              : {}),
          }),
        );
      } catch (err) {
        const name = (err as { name?: string }).name;
        // Another process may have created it in between.
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw fail(err, 'create bucket');
      }
    },

    async put(key, body, contentType) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const params = { Bucket: bucket, Key: key, Body: bytes, ContentType: contentType };
      try {
        if (bytes.length > MULTIPART_THRESHOLD) {
          await new Upload({ client, params, partSize: MULTIPART_THRESHOLD, queueSize: 4 }).done();
        } else {
          await client.send(new PutObjectCommand({ ...params, ContentLength: bytes.length }));
        }
      } catch (err) {
        throw fail(err, 'put', key);
      }
    },

    async get(key) {
      const body = await getOrUndefined(key);
      if (body === undefined) throw new Error(`object not found: ${s3Url(bucket, key)}`);
      return body;
    },

    getIfExists: getOrUndefined,

    async *list(prefix, opts = {}) {
      const pages = paginateListObjectsV2({ client, pageSize: opts.pageSize }, { Bucket: bucket, Prefix: prefix });
      try {
        for await (const page of pages) {
          for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
        }
      } catch (err) {
        throw fail(err, 'list', prefix);
      }
    },

    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        throw fail(err, 'delete', key);
      }
    },
  };
}
