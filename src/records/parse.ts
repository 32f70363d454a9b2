import type { z } from 'zod';
import { PermanentError } from '../errors.js';

/** A record that does not match its schema: which fields were wrong and how. */
export class PayloadError extends PermanentError {
  override name = 'PayloadError';
}

/** Validates a record read from the wire (a job, an S3 object, a Redis value). */
export function parsePayload<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new PayloadError(`invalid ${what}: ${issues}`);
}

/** JSON text → a validated record; malformed JSON is a PayloadError too. */
export function parseJsonRecord<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PayloadError(`invalid ${what}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return parsePayload(schema, data, what);
}
