import { randomBytes } from 'node:crypto';

/**
 * A unique, lowercase name for one test's BullMQ prefix, Redis keys or S3 bucket, so tests
 * sharing one Redis and one S3 server never see each other's data. Valid as a bucket name.
 */
export function randomPrefix(label = 't'): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30) || 't';
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
