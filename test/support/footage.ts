import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Shared footage lives beside the repository (../shared/footage); ONEADAPT_FOOTAGE_DIR overrides. */
export const FOOTAGE_DIR = process.env.ONEADAPT_FOOTAGE_DIR ?? fileURLToPath(new URL('../../../shared/footage/', import.meta.url));

export const HIGHWAY = join(FOOTAGE_DIR, 'highway-320x240.avi');
export const DASHCAM = join(FOOTAGE_DIR, 'dashcam-960x540.mp4');

/** For describe.skipIf: says which file is missing and where it was looked for. */
export function missingFootage(...paths: string[]): string | undefined {
  const missing = paths.filter((path) => !existsSync(path));
  return missing.length > 0 ? `footage not found: ${missing.join(', ')} (set ONEADAPT_FOOTAGE_DIR)` : undefined;
}
