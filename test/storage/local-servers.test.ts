import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisAnswersPing, startLocalRedis } from '../../src/embedded/local-redis.js';
import { LOCAL_S3_CREDENTIALS, startLocalS3Server } from '../../src/embedded/local-s3-server.js';
import { createS3Storage } from '../../src/storage/s3.js';

describe('startLocalS3Server', () => {
  it('serves paginated listings and cleans up on close', async () => {
    const server = await startLocalS3Server();
    const store = createS3Storage({ endpoint: server.endpoint, bucket: 'local-check', ...LOCAL_S3_CREDENTIALS });
    try {
      await store.ensureBucket();
      await Promise.all(Array.from({ length: 5 }, (_, i) => store.put(`k/${i}`, String(i))));
      // Continuation tokens are DES-encrypted by s3rver: this fails without the legacy provider.
      const keys: string[] = [];
      for await (const key of store.list('k/', { pageSize: 2 })) keys.push(key);
      expect(keys).toEqual(['k/0', 'k/1', 'k/2', 'k/3', 'k/4']);
    } finally {
      await server.close();
    }
    await expect(store.get('k/0')).rejects.toThrow(`S3 endpoint unreachable at ${server.endpoint}: ECONNREFUSED`);
  });

  it('keeps data in a directory the caller owns', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'local-s3-owned-'));
    try {
      const server = await startLocalS3Server({ directory });
      const store = createS3Storage({ endpoint: server.endpoint, bucket: 'kept', ...LOCAL_S3_CREDENTIALS });
      await store.ensureBucket();
      await store.put('x', 'y');
      await server.close();
      expect(existsSync(directory)).toBe(true);
      expect(await readdir(directory)).toContain('kept');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('startLocalRedis', () => {
  it('starts a redis-server that answers PING until closed', async () => {
    const redis = await startLocalRedis();
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(await redisAnswersPing(redis.url)).toBe(true);
    await redis.close();
    expect(await redisAnswersPing(redis.url)).toBe(false);
  });

  it('says how to get redis-server when it is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startLocalRedis()).rejects.toThrow(
        'redis-server not found on PATH; install it (apt-get install redis-server) or set REDIS_URL',
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('embedded servers', () => {
  it('run Redis as production wants it: append-only, fsync every second, no eviction', async () => {
    const local = await startLocalRedis();
    const redis = new Redis(local.url);
    try {
      const get = async (k: string) => (await redis.config('GET', k)) as string[];
      expect([await get('appendonly'), await get('appendfsync'), await get('maxmemory-policy')]).toEqual([
        ['appendonly', 'yes'],
        ['appendfsync', 'everysec'],
        ['maxmemory-policy', 'noeviction'],
      ]);
    } finally {
      redis.disconnect();
      await local.close();
    }
    expect(await redisAnswersPing(local.url)).toBe(false);
  });

  it('die with their parent, even when it is killed with SIGKILL', async () => {
    const script = [
      "import { startLocalRedis } from './src/embedded/local-redis.ts';",
      "import { startLocalS3Server } from './src/embedded/local-s3-server.ts';",
      'const r = await startLocalRedis(); const s = await startLocalS3Server();',
      'console.log(JSON.stringify({ redis: r.url, s3: s.endpoint }));',
      'setInterval(() => undefined, 1000);',
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<{ redis: string; s3: string }>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as { redis: string; s3: string });
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    });
    expect(await redisAnswersPing(started.redis)).toBe(true);
    const client = new Redis(started.redis);
    const [, dir] = (await client.config('GET', 'dir')) as string[];
    client.disconnect();
    expect(existsSync(dir)).toBe(true);
    parent.kill('SIGKILL');
    let redisUp = true;
    let s3Up = true;
    for (let i = 0; i < 50 && (redisUp || s3Up); i++) {
      await new Promise((r) => setTimeout(r, 200));
      redisUp = await redisAnswersPing(started.redis, 200);
      s3Up = await fetch(started.s3).then(() => true, () => false);
    }
    expect({ redisUp, s3Up }).toEqual({ redisUp: false, s3Up: false });
    // The data dir goes with the server.
    for (let i = 0; i < 10 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(dir)).toBe(false);
  });
});
