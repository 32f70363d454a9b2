import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { trackScenarios } from './checker.js';

const scenario = trackScenarios();
const run = promisify(execFile);

/** The CLI's stderr for a command that must fail; env replaces the connection settings. */
async function stderrOf(args: string[], env: Record<string, string>): Promise<string> {
  const base = { ...process.env };
  for (const k of ['REDIS_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) delete base[k];
  try {
    await run(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', ...args], { env: { ...base, ONEADAPT_DEBUG: '1', ...env } });
    return '';
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
}

const leaks = (text: string, secrets: string[]) => secrets.reduce((n, s) => n + text.split(s).length - 1, 0);

describe.skipIf(missingFootage(HIGHWAY))('no secret in any output, even with stacks on (ONEADAPT_DEBUG)', () => {
  it('a Redis password in REDIS_URL, when Redis is unreachable or the URL is bad', async () => {
    const out = (await stderrOf(['run', HIGHWAY], { REDIS_URL: 'redis://admin:hunter2-redis@127.0.0.1:1' })) + (await stderrOf(['worker'], { REDIS_URL: 'redis://admin:hunter2-redis@' }));
    const leaked = leaks(out, ['hunter2-redis']);
    scenario.figures({ faults: 2, secretsLeaked: leaked });
    expect(out).toMatch(/Redis unreachable at redis:\/\/admin:\*\*\*@127\.0\.0\.1:1/);
    expect(leaked).toBe(0);
  });

  it('S3 keys, when the store is unreachable', async () => {
    const out = await stderrOf(['enqueue', HIGHWAY], { REDIS_URL: 'redis://127.0.0.1:1', S3_ENDPOINT: 'http://127.0.0.1:1', S3_ACCESS_KEY_ID: 'AKIDSECRETLOOKING', S3_SECRET_ACCESS_KEY: 'hunter2-s3-secret' });
    const leaked = leaks(out, ['hunter2-s3-secret']);
    scenario.figures({ faults: 1, secretsLeaked: leaked });
    expect(out.length).toBeGreaterThan(0);
    expect(leaked).toBe(0);
  });
});
