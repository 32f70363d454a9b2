import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface LocalRedis {
  url: string;
  close(): Promise<void>;
}

/** True when a Redis server at `url` answers PING within `timeoutMs`. */
export async function redisAnswersPing(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // reported through the failed PING instead
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    // Disconnecting an already-ended client arms a 2 s timer that never clears.
    if (client.status !== 'end') client.disconnect();
  }
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const NOT_INSTALLED = 'redis-server not found on PATH; install it (apt-get install redis-server) or set REDIS_URL';

// redis-server cannot watch its parent: a small shell does, so that a `run` killed with
// SIGKILL leaves no server and no data dir behind (within about a second). SIGTERM to the
// shell stops Redis.
const WATCHDOG = `
redis-server "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; rm -rf "$ONEADAPT_REDIS_DIR"; exit 0' TERM INT
while kill -0 "$ONEADAPT_PARENT_PID" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done
kill -TERM $child 2>/dev/null
wait $child
rm -rf "$ONEADAPT_REDIS_DIR"
`;

/**
 * Starts a private redis-server on a free local port and waits until it answers PING. It runs
 * as production wants (BullMQ's guidance): append-only file fsynced every second, and no
 * eviction (an evicted job key is a lost job). Data lives in a temp dir that close() removes.
 * The server stops on close(), when this process exits, or when it dies without exiting.
 */
export async function startLocalRedis(opts: { startTimeoutMs?: number; port?: number } = {}): Promise<LocalRedis> {
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) throw new Error(NOT_INSTALLED);
  const port = opts.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'oneadapt-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--dir', dir];
  const child = spawn('sh', ['-c', WATCHDOG, 'oneadapt-redis', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ONEADAPT_PARENT_PID: String(process.pid), ONEADAPT_REDIS_DIR: dir } });
  let output = '';
  const collect = (text: Buffer) => {
    output = (output + text.toString('utf8')).slice(-2000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // SIGTERM: the watchdog shell passes it on to redis-server (SIGKILL would orphan the server).
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  let failure: Error | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => {
    failure = err.code === 'ENOENT' ? new Error(NOT_INSTALLED, { cause: err }) : err;
  });
  child.once('exit', (code, signal) => {
    const reason = output.trim().split('\n').slice(-3).join(' | ');
    failure ??= new Error(`redis-server exited during start (${signal ?? `code ${code}`}): ${reason}`);
  });

  const deadline = Date.now() + timeoutMs;
  while (!failure && !(await redisAnswersPing(url, 500))) {
    if (Date.now() > deadline) {
      failure = new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${output.trim()}`);
      child.kill('SIGTERM');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (failure) {
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
    throw failure;
  }
  // Output is only needed to explain a failed start; keep draining it, without holding the event loop.
  for (const pipe of [child.stdout, child.stderr] as Socket[]) pipe.removeListener('data', collect).resume().unref();
  child.unref();

  return {
    url,
    async close() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // keep this process alive until the server is gone
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
