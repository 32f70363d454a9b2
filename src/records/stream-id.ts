import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PermanentError } from '../errors.js';

/**
 * The one stream-id rule. Ids become Redis keys, S3 key segments and BullMQ job ids, so they
 * stay plain: a letter or digit first, then letters, digits, '.', '_' or '-', at most 128.
 */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const STREAM_ID_RULE = "a letter or digit, then letters, digits, '.', '_' or '-' (at most 128)";

export const streamIdSchema = z.string().regex(STREAM_ID_PATTERN, STREAM_ID_RULE);

export class StreamIdError extends PermanentError {
  override name = 'StreamIdError';
}

export function assertStreamId(id: string): string {
  if (!STREAM_ID_PATTERN.test(id)) throw new StreamIdError(`stream id must be ${STREAM_ID_RULE}, got ${JSON.stringify(id)}`);
  return id;
}

/**
 * A readable stream id for any file name or URL (`日本.mkv`, `_clip.mp4`, `rtsp://cam/1`):
 * the base name without its extension, other characters folded to '-', plus a random suffix
 * so that two runs of one file never share state.
 */
export function streamIdFor(source: string, suffix = randomBytes(3).toString('hex')): string {
  // A URL's user and password are never part of an id.
  const withoutAuth = source.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i, '');
  const base = (withoutAuth.split(/[\\/]/).filter(Boolean).pop() ?? '').replace(/\.[^.]+$/, '');
  const plain = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 80);
  return assertStreamId(`${plain || 'stream'}-${suffix}`);
}
