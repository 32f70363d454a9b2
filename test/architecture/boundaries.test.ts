// The import-boundary rules in eslint.config.js bite: each layer's forbidden import is an
// error from the boundary rule, and the imports each layer is allowed are not.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BOUNDARY_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** Boundary-rule messages for `code` linted as if it lived at `file` (relative to the repo root). */
async function boundaryErrors(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  // A fatal parse error or an ignored path would make every "no error" case pass vacuously.
  expect(result.messages.filter((m) => m.fatal || m.ruleId === null)).toEqual([]);
  return result.messages.filter((m) => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId) && m.severity === 2);
}

async function expectViolation(file: string, code: string, says: RegExp): Promise<void> {
  const errors = await boundaryErrors(file, code);
  expect(errors, `expected a boundary error for ${file}:\n${code}`).toHaveLength(1);
  expect(errors[0].message).toMatch(says);
}

async function expectClean(file: string, code: string): Promise<void> {
  const errors = await boundaryErrors(file, code);
  expect(errors.map((e) => e.message), `expected no boundary error for ${file}:\n${code}`).toEqual([]);
}

describe('core (src/knobs, adapt, accuracy, models, report, autodiff, records) stays pure', () => {
  it('rejects bullmq', async () => {
    await expectViolation('src/adapt/__fixture__.ts', "import { Queue } from 'bullmq';\nexport const q = Queue;\n", /pure core imports no Redis/);
  });

  it('rejects the other infrastructure packages, type-only or not', async () => {
    for (const code of [
      "import Redis from 'ioredis';\nexport const r = Redis;\n",
      "import type { Redis } from 'ioredis';\nexport type R = Redis;\n",
      "import { S3Client } from '@aws-sdk/client-s3';\nexport const s = S3Client;\n",
      "import { Upload } from '@aws-sdk/lib-storage';\nexport const u = Upload;\n",
      "import ffmpeg from 'fluent-ffmpeg';\nexport const f = ffmpeg;\n",
      "import * as ort from 'onnxruntime-node';\nexport const o = ort;\n",
      "import { execFile } from 'node:child_process';\nexport const e = execFile;\n",
      "import { spawn } from 'child_process';\nexport const s = spawn;\n",
      "export { Worker } from 'bullmq';\n",
    ]) {
      await expectViolation('src/models/__fixture__.ts', code, /pure core imports no Redis/);
    }
  });

  it('rejects src/config, from any depth', async () => {
    await expectViolation(
      'src/adapt/__fixture__.ts',
      "import { loadConfig } from '../config/config.js';\nexport const c = loadConfig;\n",
      /pure core imports no config/,
    );
    await expectViolation(
      'src/autodiff/rules/__fixture__.ts',
      "import { loadConfig } from '../../config/config.js';\nexport const c = loadConfig;\n",
      /pure core imports no config/,
    );
  });

  it('rejects the ports and embedded servers', async () => {
    for (const spec of ['../queue/names.js', '../storage/s3.js', '../onnx/pool.js', '../embedded/local-redis.js']) {
      await expectViolation('src/knobs/__fixture__.ts', `import * as m from '${spec}';\nexport const x = m;\n`, /no config and no ports/);
    }
    // records is part of the core even before it exists.
    await expectViolation('src/records/__fixture__.ts', "import * as m from '../storage/keys.js';\nexport const x = m;\n", /no config and no ports/);
  });

  it('allows only type imports from src/media/types.ts, and no media implementation', async () => {
    await expectClean('src/models/__fixture__.ts', "import type { RawFrame } from '../media/types.js';\nexport type F = RawFrame;\n");
    await expectClean('src/knobs/__fixture__.ts', "import { type EncodeSettings } from '../media/types.js';\nexport type E = EncodeSettings;\n");
    await expectViolation(
      'src/models/__fixture__.ts',
      "import { RawFrame } from '../media/types.js';\nexport const F = RawFrame;\n",
      /types only/,
    );
    await expectViolation(
      'src/adapt/__fixture__.ts',
      "import { encodeSegment } from '../media/ffmpeg.js';\nexport const e = encodeSegment;\n",
      /does not run ffmpeg/,
    );
    await expectViolation(
      'src/adapt/__fixture__.ts',
      "import type { MediaInfo } from '../media/media-info.js';\nexport type M = MediaInfo;\n",
      /does not run ffmpeg/,
    );
  });

  it('holds src/errors.ts, which the core imports, to the same rule', async () => {
    await expectViolation('src/errors.ts', "import { Queue } from 'bullmq';\nexport const q = Queue;\n", /pure core imports no Redis/);
  });

  it('rejects workers/ and app/', async () => {
    await expectViolation('src/report/__fixture__.ts', "import * as w from '../../workers/ingest/ingest.js';\nexport const x = w;\n", /imports run app\/ → workers\/ → src\//);
    await expectViolation('src/accuracy/__fixture__.ts', "import * as a from '../../app/runtime.js';\nexport const x = a;\n", /imports run app\/ → workers\/ → src\//);
  });

  it('rejects dynamic import() of the same', async () => {
    for (const spec of ['bullmq', '../config/config.js', '../../workers/ingest/ingest.js']) {
      await expectViolation('src/adapt/__fixture__.ts', `export const load = () => import('${spec}');\n`, /not even with import\(\)/);
    }
  });

  it('allows the rest of the core, node built-ins and pure packages', async () => {
    await expectClean(
      'src/adapt/__fixture__.ts',
      [
        "import path from 'node:path';",
        "import { z } from 'zod';",
        "import { gridOf } from './profiling.js';",
        "import { knobSpace } from '../knobs/space.js';",
        "import { f1 } from '../accuracy/f1.js';",
        "import { attrInt } from '../autodiff/onnx-io.js';",
        'export const all = [path, z, gridOf, knobSpace, f1, attrInt];',
        "export const later = () => import('../models/nms.js');",
        '',
      ].join('\n'),
    );
  });
});

describe('src ports (media, storage, queue, onnx, config, embedded)', () => {
  it('rejects workers/', async () => {
    await expectViolation(
      'src/queue/__fixture__.ts',
      "import { runIngest } from '../../workers/ingest/ingest.js';\nexport const r = runIngest;\n",
      /src\/ sits below workers\/ and app\//,
    );
  });

  it('rejects app/', async () => {
    await expectViolation('src/storage/__fixture__.ts', "import * as a from '../../app/runtime.js';\nexport const x = a;\n", /src\/ sits below/);
  });

  it('allows infrastructure packages, the core and each other', async () => {
    await expectClean(
      'src/media/__fixture__.ts',
      [
        "import { Queue } from 'bullmq';",
        "import ffmpeg from 'fluent-ffmpeg';",
        "import { execFile } from 'node:child_process';",
        "import { loadConfig } from '../config/config.js';",
        "import { queueNames } from '../queue/names.js';",
        "import { knobSpace } from '../knobs/space.js';",
        'export const all = [Queue, ffmpeg, execFile, loadConfig, queueNames, knobSpace];',
        '',
      ].join('\n'),
    );
  });
});

describe('workers/', () => {
  it('rejects app/', async () => {
    await expectViolation(
      'workers/ingest/__fixture__.ts',
      "import { runtime } from '../../app/runtime.js';\nexport const r = runtime;\n",
      /workers\/ sits below app\//,
    );
  });

  it('allows src/, infrastructure and other workers', async () => {
    await expectClean(
      'workers/coordinator/__fixture__.ts',
      [
        "import { Worker } from 'bullmq';",
        "import { loadConfig } from '../../src/config/config.js';",
        "import { gridOf } from '../../src/adapt/profiling.js';",
        "import { runIngest } from '../ingest/ingest.js';",
        'export const all = [Worker, loadConfig, gridOf, runIngest];',
        '',
      ].join('\n'),
    );
  });
});

describe('app/, bench/ and test/', () => {
  it('may import anything', async () => {
    const code = [
      "import { Queue } from 'bullmq';",
      "import { loadConfig } from '../../src/config/config.js';",
      "import { runIngest } from '../../workers/ingest/ingest.js';",
      "import { runtime } from '../../app/runtime.js';",
      'export const all = [Queue, loadConfig, runIngest, runtime];',
      '',
    ].join('\n');
    await expectClean('app/cli/__fixture__.ts', code);
    await expectClean('bench/sub/__fixture__.ts', code);
    await expectClean('test/unit/__fixture__.ts', code);
  });
});
