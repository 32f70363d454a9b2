import { PermanentError } from '../errors.js';

export class PolicyError extends PermanentError {
  override name = 'PolicyError';
}
