import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

describe('config', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.model).toBe('yolox-nano');
    expect(c.executionProviders).toEqual(['cpu']);
    expect(c.segmentSeconds).toBe(1);
    expect(c.analysisFps).toBe(10);
    expect(c.redisUrl).toBeUndefined();
  });

  it('names the variable, the value and what was expected', () => {
    expect(() => loadConfig({ ONEADAPT_SEGMENT_SECONDS: 'abc' })).toThrow(/ONEADAPT_SEGMENT_SECONDS="abc"/);
    expect(() => loadConfig({ REDIS_URL: 'nope' })).toThrow(/REDIS_URL="nope"/);
    expect(() => loadConfig({ ONEADAPT_EXECUTION_PROVIDERS: 'cuda,tpu' })).toThrow(/tpu.*expected a comma list/);
    expect(() => loadConfig({ S3_ACCESS_KEY_ID: 'x' })).toThrow(/both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
  });

  it('uses path-style addressing for custom endpoints', () => {
    expect(loadConfig({ S3_ENDPOINT: 'http://minio:9000' }).s3.forcePathStyle).toBe(true);
    expect(loadConfig({}).s3.forcePathStyle).toBe(false);
  });
});
