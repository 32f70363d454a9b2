import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { LOCAL_S3_CREDENTIALS } from '../../src/embedded/local-s3-server.js';
import { randomPrefix } from './random.js';

/** A config on the run's Redis and S3 with its own bucket and queue prefix. */
export function pipelineConfig(label: string, extra: Record<string, string> = {}): Config {
  const id = randomPrefix(label);
  return loadConfig({
    REDIS_URL: inject('redisUrl'),
    S3_ENDPOINT: inject('s3Endpoint'),
    S3_BUCKET: id,
    S3_REGION: LOCAL_S3_CREDENTIALS.region,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    ONEADAPT_QUEUE_PREFIX: id,
    ...extra,
  });
}
