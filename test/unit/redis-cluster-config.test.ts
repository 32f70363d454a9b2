import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { describeRedisTarget, redisTarget } from '../../src/queue/connection.js';
import { queueNames } from '../../src/queue/names.js';

/** The message loadConfig throws for `env`. */
const failure = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted it');
};

describe('REDIS_CLUSTER_NODES', () => {
  it('takes seed nodes; bare host:port entries share the scheme and credentials of the others', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis://app:p%40ss@10.0.0.2:7001,[::1]:7002,node-4' });
    expect(c.redisUrl).toBeUndefined();
    expect(c.redisCluster).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
        { host: 'node-4', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: false,
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://:secret@a:1,b:2' }).redisCluster).toMatchObject({ username: undefined, password: 'secret', tls: true });
    expect(loadConfig({}).redisCluster).toBeUndefined();
  });

  it('is exclusive with REDIS_URL, and either one is needed by a runtime', () => {
    expect(failure({ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'b:2' })).toBe('invalid configuration: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
    expect(() => redisTarget(loadConfig({}))).toThrow(/^neither REDIS_URL nor REDIS_CLUSTER_NODES is set/);
    expect(redisTarget(loadConfig({ REDIS_URL: 'redis://a:1' }))).toEqual({ kind: 'single', url: 'redis://a:1' });
    expect(redisTarget(loadConfig({ REDIS_CLUSTER_NODES: 'a:1' })).kind).toBe('cluster');
  });

  it('names the variable, what came and what was expected, and never shows a password', () => {
    const cases: [string, RegExp][] = [
      ['', /REDIS_CLUSTER_NODES="": no node given/],
      ['a:1,,b:2', /REDIS_CLUSTER_NODES="a:1,,b:2": entry 2 is empty/],
      ['redis://a:1/3', /entry 1 has more than host:port, such as a database \(a cluster has database 0 only\)/],
      ['http://a:1', /entry 1 has the scheme http/],
      ['a:notaport', /entry 1 is not a redis:\/\/ URL or host:port/],
      ['a:0', /entry 1 has port 0/],
      ['redis://u:one@a:1,redis://u:two@b:2', /REDIS_CLUSTER_NODES="redis:\/\/u:\*\*\*@a:1,redis:\/\/u:\*\*\*@b:2": entry 2 differs from an earlier entry in scheme or credentials/],
      ['redis://a:1,rediss://b:2', /entry 2 differs from an earlier entry/],
    ];
    for (const [value, says] of cases) {
      const message = failure({ REDIS_CLUSTER_NODES: value });
      expect(message, value).toMatch(says);
      expect(message, value).toMatch(/; expected a comma list of redis:\/\/\[user:pass@\]host:port/);
    }
    // A password outside a URL (no scheme: no telling it from a host) is not shown at all, and
    // neither is a part of one split at an unencoded comma.
    for (const value of ['app:hunter2@a:1', 'redis://app:hun,ter2@a:1']) {
      const message = failure({ REDIS_CLUSTER_NODES: value });
      expect(message).not.toMatch(/hunter2|hun|ter2/);
    }
    expect(failure({ REDIS_CLUSTER_NODES: 'app:hunter2@a:1' })).toMatch(/REDIS_CLUSTER_NODES=\(hidden: it holds credentials outside a redis:\/\/ URL\): entry 1 has credentials but no redis:\/\/ scheme/);
  });

  it('is shown without its password', () => {
    expect(describeRedisTarget(redisTarget(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://app:hunter2@a:1,[::1]:2' })))).toBe('rediss://app:***@a:1,[::1]:2');
    expect(describeRedisTarget(redisTarget(loadConfig({ REDIS_CLUSTER_NODES: 'a:1' })))).toBe('redis://a:1');
    expect(describeRedisTarget(redisTarget(loadConfig({ REDIS_URL: 'redis://app:hunter2@a:1' })))).toBe('redis://app:***@a:1');
  });
});

describe('queue names', () => {
  it('stay plain on one Redis and are one hash tag each on a cluster', () => {
    expect(queueNames(false)).toEqual({ segments: 'segments', results: 'results', ingest: 'ingest' });
    expect(queueNames(true)).toEqual({ segments: '{segments}', results: '{results}', ingest: '{ingest}' });
  });
});
