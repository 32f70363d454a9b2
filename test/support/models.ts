import { resolveModel } from '../../src/models/catalog.js';

/** For describe.skipIf: why a catalog model cannot be used here (its file is absent), if so. */
export function missingModel(name: string): string | undefined {
  try {
    resolveModel(name);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
