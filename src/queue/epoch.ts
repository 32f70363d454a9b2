import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connection.js';

/** Redis no longer holds the state this process started on (it restarted empty, or was flushed). */
export class RedisStateLostError extends Error {
  override name = 'RedisStateLostError';
}

const epochKey = (prefix: string) => `${prefix}:oa:epoch`;

/**
 * The deployment's epoch: written once by the first process that finds none, read by every
 * other. While it stays the same, Redis still holds what the roles wrote; a Redis that comes
 * back empty has none (or, once a process wrote a new one, another).
 */
export async function claimEpoch(redis: RedisClient, prefix: string): Promise<string> {
  await redis.set(epochKey(prefix), randomUUID(), 'NX');
  const epoch = await redis.get(epochKey(prefix));
  if (!epoch) throw new RedisStateLostError(`Redis dropped ${epochKey(prefix)} right after it was written: is it evicting keys (maxmemory-policy must be noeviction)?`);
  return epoch;
}

/**
 * Checks every `intervalMs` that the epoch is still the one this process started on; calls
 * `onLost` once when it is not. Returns a function that stops the checks.
 */
export function watchEpoch(redis: RedisClient, prefix: string, epoch: string, intervalMs: number, onLost: (err: RedisStateLostError) => void): () => void {
  let lost = false;
  const timer = setInterval(() => {
    redis.get(epochKey(prefix)).then(
      (now) => {
        if (lost || now === epoch) return;
        lost = true;
        clearInterval(timer);
        onLost(new RedisStateLostError(`Redis lost its state: epoch ${epoch} is ${now === null ? 'gone' : `replaced by ${now}`} (a restart without persistence, a flush or a failover to an empty replica); stopping rather than working on an empty queue`));
      },
      () => undefined, // unreachable for a moment: the connection's own errors say so
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
