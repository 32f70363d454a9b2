import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { redisAnswersPing } from '../../src/embedded/local-redis.js';
import { createS3Storage } from '../../src/storage/s3.js';

describe('oneadapt services', () => {
  it('serves Redis and S3 with the environment it prints, and stops both on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'services'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    const env = await new Promise<Record<string, string>>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const vars = Object.fromEntries([...stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
        if (Object.keys(vars).length === 5) resolve(vars);
      });
      child.once('exit', () => reject(new Error(`services exited: ${stdout}`)));
    });
    expect(Object.keys(env).sort()).toEqual(['REDIS_URL', 'S3_ACCESS_KEY_ID', 'S3_ENDPOINT', 'S3_REGION', 'S3_SECRET_ACCESS_KEY']);
    expect(await redisAnswersPing(env.REDIS_URL)).toBe(true);
    const store = createS3Storage({ endpoint: env.S3_ENDPOINT, bucket: 'services-check', region: env.S3_REGION, accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY, forcePathStyle: true });
    await store.ensureBucket();
    await store.put('a/b.txt', Buffer.from('hello'), 'text/plain');
    expect((await store.get('a/b.txt')).toString()).toBe('hello');
    child.kill('SIGTERM');
    expect(await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))])).toBe(0);
    expect(await redisAnswersPing(env.REDIS_URL, 500)).toBe(false);
    await expect(fetch(env.S3_ENDPOINT)).rejects.toThrow();
  });
});
