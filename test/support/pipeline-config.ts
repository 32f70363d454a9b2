import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { LOCAL_S3_CREDENTIALS } from '../../src/embedded/local-s3-server.js';
import { randomPrefix } from './random.js';

/** The environment of a config on the run's Redis and S3 with its own bucket and queue prefix (also for child processes). */
export function pipelineEnv(label: string, extra: Record<string, string> = {}): Record<string, string> {
  const id = randomPrefix(label);
  return {
    REDIS_URL: inject('redisUrl'),
    S3_ENDPOINT: inject('s3Endpoint'),
    S3_BUCKET: id,
    S3_REGION: LOCAL_S3_CREDENTIALS.region,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    ONEADAPT_QUEUE_PREFIX: id,
    // The shared s3rver is one process serving every test: a request it stalls is retried
    // after 5 s rather than the production 30 s, so a stall costs a test seconds, not a minute.
    ONEADAPT_S3_TIMEOUT_MS: '5000',
    // Tests that name no policy test the pipeline, not adaptation: the reference configuration.
    ONEADAPT_POLICY: 'fixed:',
    ...extra,
  };
}

/** A config on the run's Redis and S3 with its own bucket and queue prefix. */
export function pipelineConfig(label: string, extra: Record<string, string> = {}): Config {
  return loadConfig(pipelineEnv(label, extra));
}
