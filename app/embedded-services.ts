import type { Config } from '../src/config/config.js';
import { startLocalRedis } from '../src/embedded/local-redis.js';
import { LOCAL_S3_CREDENTIALS, startLocalS3Server } from '../src/embedded/local-s3-server.js';

export interface EmbeddedServices {
  /** The configuration with REDIS_URL / S3_ENDPOINT filled in from what was started. */
  config: Config;
  started: string[];
  close(): Promise<void>;
}

/**
 * The main job's embedded defaults: a private redis-server when neither REDIS_URL nor
 * REDIS_CLUSTER_NODES is set, and an S3-protocol server when S3_ENDPOINT is unset. Configured
 * services are used as they are.
 */
export async function ensureServices(config: Config): Promise<EmbeddedServices> {
  const closers: (() => Promise<void>)[] = [];
  const started: string[] = [];
  let out = config;
  try {
    if (!config.redisUrl && !config.redisCluster) {
      const redis = await startLocalRedis();
      closers.push(() => redis.close());
      started.push(`redis-server at ${redis.url}`);
      out = { ...out, redisUrl: redis.url };
    }
    if (!config.s3.endpoint) {
      const s3 = await startLocalS3Server();
      closers.push(() => s3.close());
      started.push(`S3 server at ${s3.endpoint}`);
      out = {
        ...out,
        s3: { ...out.s3, endpoint: s3.endpoint, region: LOCAL_S3_CREDENTIALS.region, accessKeyId: LOCAL_S3_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey, forcePathStyle: true },
      };
    }
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
  return {
    config: out,
    started,
    close: async () => {
      for (const c of closers.reverse()) await c().catch(() => undefined);
    },
  };
}
