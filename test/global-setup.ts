import type { TestProject } from 'vitest/node';
import { redisAnswersPing, startLocalRedis } from '../src/embedded/local-redis.js';
import { startLocalS3Server } from '../src/embedded/local-s3-server.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** A Redis every test file may use; isolate with randomPrefix() (BullMQ prefix, key names). */
    redisUrl: string;
    /** An s3rver endpoint; use testStore() for a fresh bucket on it. */
    s3Endpoint: string;
  }
}

/** One Redis and one S3-protocol server for the whole run, torn down at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const closers: (() => Promise<void>)[] = [];

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const usual = 'redis://127.0.0.1:6379';
    if (await redisAnswersPing(usual)) {
      redisUrl = usual;
    } else {
      const local = await startLocalRedis();
      closers.push(local.close);
      redisUrl = local.url;
    }
  }

  const s3 = await startLocalS3Server();
  closers.push(s3.close);

  project.provide('redisUrl', redisUrl);
  project.provide('s3Endpoint', s3.endpoint);

  return async () => {
    await Promise.all(closers.map((close) => close()));
  };
}
