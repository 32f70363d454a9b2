import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { redisAnswersPing } from '../../src/embedded/local-redis.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { trackScenarios } from './checker.js';

trackScenarios();

describe.skipIf(missingFootage(HIGHWAY))('oneadapt run stops cleanly on SIGTERM', () => {
  it('stops cutting, closes its embedded Redis and S3 server, and exits', async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    delete env.S3_ENDPOINT;
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'run', HIGHWAY, '--policy', 'fixed:qp=30'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const redisUrl = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /started redis-server at (redis:\/\/[^\s"]+)/.exec(stderr);
        // Wait until segments flow, so the signal lands mid-run.
        if (m && /ingest|segments|run /.test(stderr.slice(stderr.indexOf(m[0]) + m[0].length))) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`run exited before it started: ${stderr}`)));
    });
    expect(await redisAnswersPing(redisUrl)).toBe(true);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/SIGTERM: stopping/);
    expect(stderr.trim().split('\n').pop()).toMatch(/^oneadapt: stopped by SIGTERM$/);
    expect(await redisAnswersPing(redisUrl, 500)).toBe(false);
  });
});
