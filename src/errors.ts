/**
 * Failures that no retry can fix: the input itself is wrong (a corrupt segment, an invalid
 * payload, an unknown model, a bad policy). Queue adapters fail such a job at once; every
 * other error is taken as the machine or the network failing, and is retried.
 * Classified by class, never by message text.
 */
export abstract class PermanentError extends Error {}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}
