import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { redactUrls } from '../redact.js';

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/** redis[s]://[user:pass@]host:port[/db] → ioredis options (BullMQ takes the same). */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUnreachableError(`bad REDIS_URL "${redactUrls(url)}": expected redis://host:port[/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RedisUnreachableError(`bad REDIS_URL "${redactUrls(url)}": expected the redis:// or rediss:// scheme`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ workers block on Redis; they must never give up a command.
    maxRetriesPerRequest: null,
  };
}

/** BullMQ's connection options for `url` (each Queue/Worker opens its own clients). */
export function bullConnection(url: string): ConnectionOptions {
  const o = redisOptions(url);
  return { host: o.host, port: o.port, db: o.db, username: o.username, password: o.password, tls: o.tls, maxRetriesPerRequest: null };
}

/** A connection for BullMQ workers and long-lived role state. */
export function connect(url: string, onError: (err: Error) => void = () => undefined): Redis {
  const redis = new Redis(redisOptions(url));
  // ioredis reconnects by itself; without a listener it prints every failed attempt as an
  // "unhandled error event". Commands still fail (or wait) on their own, where it matters.
  redis.on('error', onError);
  return redis;
}

/** Fails fast with one line when nothing answers at `url`. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket error (ECONNREFUSED, ENOTFOUND…) says more than connect()'s "Connection is closed".
  let socketError: NodeJS.ErrnoException | undefined;
  probe.on('error', (err: NodeJS.ErrnoException) => {
    socketError ??= err;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    const e = socketError ?? (err as NodeJS.ErrnoException);
    const reason = e instanceof Error ? e.code ?? e.message : String(e);
    throw new RedisUnreachableError(`Redis unreachable at ${redactUrls(url)}: ${reason}; start redis-server or set REDIS_URL`);
  } finally {
    probe.disconnect();
  }
}
