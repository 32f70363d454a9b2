import type { Redis } from 'ioredis';
import type { RedisClient } from './connection.js';
import type { StreamRegister } from './stream-register.js';

/** What a stream announced: a result its coordinator consumed (commit.lua) or a row it recorded. */
export interface StreamEvent {
  streamId: string;
  kind: 'consumed' | 'row';
  seq: number;
}

export interface StreamEventWatch {
  /** Resolves once both pattern subscriptions are live: events after this are not missed. */
  ready: Promise<void>;
  close(): void;
}

/** The subscriber's client name on one Redis. */
export const WATCHER_NAME = 'oneadapt-stream-events';

/** Redis glob metacharacters in a literal part of a pattern. */
const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** A channel name with the stream id as a wildcard, and the way back from a channel to its id. */
function channelPattern(channelOf: (streamId: string) => string): { pattern: string; idOf: (channel: string) => string | undefined } {
  // The register's own channel names with a marker for the id: no second copy of the key layout.
  const marker = '\u0000';
  const [head, tail] = channelOf(marker).split(marker);
  return {
    pattern: `${escapeGlob(head)}*${escapeGlob(tail)}`,
    idOf: (channel) => (channel.length > head.length + tail.length && channel.startsWith(head) && channel.endsWith(tail) ? channel.slice(head.length, channel.length - tail.length) : undefined),
  };
}

/**
 * Every stream's announcements, on one subscriber connection of its own: pattern subscriptions
 * on the register's consumed and rows channels, so a watcher needs no list of streams and learns
 * of a new one from its first event. Messages published while the connection is down are lost:
 * after a reconnect `onResync` says to read the state again.
 */
export function watchStreamEvents(redis: RedisClient, register: StreamRegister, onEvent: (e: StreamEvent) => void, onResync: () => void): StreamEventWatch {
  const consumed = channelPattern((id) => register.consumedChannel(id));
  const rows = channelPattern((id) => register.rowsChannel(id));
  // Named, so that CLIENT LIST tells this subscriber from the roles' connections.
  const sub = redis.isCluster ? redis.duplicate() : (redis as Redis).duplicate({ connectionName: WATCHER_NAME });
  // ioredis reconnects (and resubscribes) by itself; the watcher only needs to know it happened.
  sub.on('error', () => undefined);
  sub.on('pmessage', (pattern: string, channel: string, payload: string) => {
    const kind = pattern === consumed.pattern ? 'consumed' : pattern === rows.pattern ? 'row' : undefined;
    const streamId = kind === 'consumed' ? consumed.idOf(channel) : kind === 'row' ? rows.idOf(channel) : undefined;
    const seq = Number(payload);
    if (kind && streamId && Number.isSafeInteger(seq)) onEvent({ streamId, kind, seq });
  });
  let connected = false;
  let closed = false;
  sub.on('ready', () => {
    if (!connected) {
      connected = true;
      return;
    }
    if (closed) return;
    // Subscribe once more: its reply says the subscriptions are live again; then re-read.
    sub.psubscribe(consumed.pattern, rows.pattern).then(() => onResync(), () => undefined);
  });
  const ready = sub.psubscribe(consumed.pattern, rows.pattern).then(() => undefined);
  return {
    ready,
    close: () => {
      closed = true;
      sub.disconnect();
    },
  };
}
