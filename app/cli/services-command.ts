import { writeFile } from 'node:fs/promises';
import type { Command, OptionValues } from 'commander';
import { startLocalRedis } from '../../src/embedded/local-redis.js';
import { LOCAL_S3_CREDENTIALS, startLocalS3Server } from '../../src/embedded/local-s3-server.js';
import { closeOnSignals } from '../signals.js';

function portOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new Error(`expected a port 1–65535, got "${value}"`);
  return n;
}

/**
 * `oneadapt services`: the Redis and S3 server that `run` embeds, in the foreground, so that the
 * roles (`up`, `worker`, `enqueue` …) can run on one machine without Docker or a cloud account.
 */
export function registerServicesCommand(program: Command): void {
  program
    .command('services')
    .description('start a local redis-server and S3 server (what `run` embeds) and print the environment the roles need; runs until SIGTERM/SIGINT')
    .option('--redis-port <port>', 'Redis port (default: a free one)', portOption)
    .option('--s3-port <port>', 'S3 server port (default: a free one)', portOption)
    .option('--data <dir>', 'keep the S3 server\'s objects in this folder (default: a temp folder removed on exit)')
    .option('--write-env <file>', 'also write the variables to this file (`set -a; . file; set +a` loads them)')
    .action(async (o: OptionValues) => {
      const redis = await startLocalRedis({ port: o.redisPort as number | undefined });
      const s3 = await startLocalS3Server({ port: o.s3Port as number | undefined, directory: o.data as string | undefined }).catch(async (err: unknown) => {
        await redis.close();
        throw err;
      });
      const env = {
        REDIS_URL: redis.url,
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: LOCAL_S3_CREDENTIALS.region,
        S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      };
      const lines = Object.entries(env).map(([k, v]) => `export ${k}=${v}`);
      if (o.writeEnv) await writeFile(o.writeEnv as string, lines.join('\n') + '\n');
      process.stdout.write(`${lines.join('\n')}\n`);
      process.stderr.write('oneadapt services: Redis and S3 server running on 127.0.0.1; SIGTERM or Ctrl-C stops them (their data goes with them unless --data)\n');
      closeOnSignals(async () => {
        await s3.close();
        await redis.close();
      }, (l) => process.stderr.write(`${l}\n`));
      // The servers do not hold this process (they exit with it): this does, until a signal.
      setInterval(() => undefined, 1 << 30);
    });
}
