import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config, RedisClusterConfig } from '../config/config.js';
import { redactUrls } from '../redact.js';

/** One Redis or a Redis Cluster: the roles' state and BullMQ's queues live on either. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, or REDIS_CLUSTER_NODES (src/config). */
export type RedisTarget = { kind: 'single'; url: string } | { kind: 'cluster'; cluster: RedisClusterConfig };

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

/** Fails fast with one line when nothing answers at `target` (a REDIS_URL or a cluster). */
export async function assertRedisReachable(target: string | RedisTarget, timeoutMs = 3000): Promise<void> {
  if (typeof target !== 'string' && target.kind === 'cluster') return assertClusterReachable(target, timeoutMs);
  const url = typeof target === 'string' ? target : target.url;
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

/** The configured Redis; throws when neither REDIS_URL nor REDIS_CLUSTER_NODES is set. */
export function redisTarget(config: Pick<Config, 'redisUrl' | 'redisCluster'>): RedisTarget {
  if (config.redisCluster) return { kind: 'cluster', cluster: config.redisCluster };
  if (config.redisUrl) return { kind: 'single', url: config.redisUrl };
  throw new Error('neither REDIS_URL nor REDIS_CLUSTER_NODES is set (the CLI starts a local Redis only for `run`)');
}

/** The target as messages may show it: no password, ever. */
export function describeRedisTarget(t: RedisTarget): string {
  if (t.kind === 'single') return redactUrls(t.url);
  const c = t.cluster;
  const auth = c.username || c.password ? `${c.username ?? ''}${c.password ? ':***' : ''}@` : '';
  const host = (h: string) => (h.includes(':') ? `[${h}]` : h);
  return `${c.tls ? 'rediss' : 'redis'}://${auth}${c.nodes.map((n) => `${host(n.host)}:${n.port}`).join(',')}`;
}

/** ioredis Cluster options for `c`; every node, seed or discovered, is reached with the same credentials. */
function clusterOptions(c: RedisClusterConfig): ClusterOptions {
  return {
    // BullMQ's workers block on Redis (maxRetriesPerRequest must be null, as for one Redis).
    redisOptions: { username: c.username, password: c.password, tls: c.tls ? {} : undefined, maxRetriesPerRequest: null },
    // Queue state is read back right after it is written: reads go to the masters, never to a
    // replica that may lag.
    scaleReads: 'master',
  };
}

function openCluster(c: RedisClusterConfig, onError: (err: Error) => void): Cluster {
  const cluster = new Cluster(c.nodes.map((n) => ({ host: n.host, port: n.port })), clusterOptions(c));
  // As connect(): ioredis reconnects by itself and would print every failed attempt otherwise.
  cluster.on('error', onError);
  return cluster;
}

/** Our own connections (stream register, epoch) and BullMQ's, for one target. */
export interface RedisConnections {
  redis: RedisClient;
  /**
   * What BullMQ's Queues and Workers get. One Redis: options (each opens its own clients).
   * A cluster: a Cluster client, since BullMQ takes no cluster options, only an instance;
   * Queues share it and Workers duplicate it for their blocking connections.
   */
  bull: ConnectionOptions;
  cluster: boolean;
  /** Closes what this opened; BullMQ leaves a shared Cluster client to its owner. */
  disconnect(): void;
}

export function openRedis(t: RedisTarget, onError: (err: Error) => void = () => undefined): RedisConnections {
  if (t.kind === 'single') {
    const redis = connect(t.url, onError);
    return { redis, bull: bullConnection(t.url), cluster: false, disconnect: () => redis.disconnect() };
  }
  const redis = openCluster(t.cluster, onError);
  const bull = openCluster(t.cluster, onError);
  return {
    redis,
    bull,
    cluster: true,
    disconnect: () => {
      redis.disconnect();
      bull.disconnect();
    },
  };
}

/**
 * Fails fast with one line unless a seed node answers and says that the cluster serves every
 * slot (cluster_state:ok). Each seed is asked on its own: a refused socket or a node's answer
 * ("cluster support disabled") says more than a Cluster client's "None of startup nodes is
 * available".
 */
async function assertClusterReachable(t: Extract<RedisTarget, { kind: 'cluster' }>, timeoutMs: number): Promise<void> {
  const c = t.cluster;
  const reasons: { node: string; reason: string }[] = [];
  for (const { host, port } of c.nodes) {
    const probe = new Redis({ host, port, username: c.username, password: c.password, tls: c.tls ? {} : undefined, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    let socketError: NodeJS.ErrnoException | undefined;
    probe.on('error', (err: NodeJS.ErrnoException) => {
      socketError ??= err;
    });
    try {
      await probe.connect();
      const state = /cluster_state:(\w+)/.exec(String(await probe.cluster('INFO')))?.[1] ?? 'unknown';
      if (state === 'ok') return;
      reasons.push({ node: `${host}:${port}`, reason: `cluster_state:${state} (every slot must be served by a live master)` });
    } catch (err) {
      const e = socketError ?? (err as NodeJS.ErrnoException);
      reasons.push({ node: `${host}:${port}`, reason: e instanceof Error ? e.code ?? e.message : String(e) });
    } finally {
      if (probe.status !== 'end') probe.disconnect();
    }
  }
  const distinct = [...new Set(reasons.map((r) => r.reason))];
  const reason = distinct.length === 1 ? distinct[0] : reasons.map((r) => `${r.node} ${r.reason}`).join(', ');
  throw new RedisUnreachableError(`Redis Cluster unreachable at ${describeRedisTarget(t)}: ${redactUrls(reason)}; start the cluster or fix REDIS_CLUSTER_NODES`);
}
