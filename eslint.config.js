import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---------------------------------------------------------------------------
// Import boundaries. Imports run one way: app/ → workers/ → src/.
//
//   src core (pure)   src/{knobs,adapt,accuracy,models,report,autodiff,records},
//                     src/errors.ts:
//                     no Redis/S3/ffmpeg/onnxruntime/child_process/config, no
//                     ports, no workers/ or app/; only `import type` from
//                     src/media/types.ts (RawFrame, EncodeSettings).
//   src ports         src/{media,storage,queue,onnx,config,embedded}: the core
//                     and each other, never workers/ or app/.
//   workers/          src/, never app/.
//   app/              anything in src/ and workers/.
//   bench/, test/     anything.
//
// Specifiers are matched as written (relative, `.js`): a regex on path segments,
// so `../config/config.js`, `../../src/queue/names.js` and `../../app/x.js` all
// match wherever they are written from. test/architecture/ proves the rules bite
// and checks the resolved import graph (layers and cycles) as well.
// ---------------------------------------------------------------------------

/** A relative specifier with a path segment from `names`: `../x/…`, `../../src/x/…`. */
const relativeSegment = (names) => `^(\\.{1,2}/)+(.*/)?(${names.join('|')})(/|$)`;

const CORE = ['knobs', 'adapt', 'accuracy', 'models', 'report', 'autodiff', 'records'];
/** src/errors.ts (PermanentError) is imported by the core, so it is held to the core's rule too. */
const CORE_FILES = [...CORE.map((dir) => `src/${dir}/**`), 'src/errors.ts'];

const UP_FROM_SRC = {
  regex: relativeSegment(['workers', 'app']),
  message:
    'src/ sits below workers/ and app/: imports run app/ → workers/ → src/. Move the shared piece down into src/ or pass it in.',
};

const CORE_INFRA_PACKAGES = {
  regex: '^(bullmq|ioredis|fluent-ffmpeg|onnxruntime-node|onnxruntime-common|@aws-sdk/[^/]+|(node:)?child_process)(/|$)',
  message:
    'The pure core imports no Redis/BullMQ/S3/ffmpeg/onnxruntime/child_process; put side effects behind a port in src/queue, src/storage, src/media or src/onnx and hand the core plain data.',
};

const CORE_PORTS = {
  regex: relativeSegment(['config', 'queue', 'storage', 'onnx', 'embedded']),
  message:
    'The pure core imports no config and no ports (src/config, src/queue, src/storage, src/onnx, src/embedded); take settings as parameters and put side effects behind a port in src/….',
};

const CORE_MEDIA_IMPLEMENTATION = {
  // src/media/<anything but types>, or src/media itself (an index).
  regex: '^(\\.{1,2}/)+(.*/)?media(/?$|/(?!types(\\.js|\\.ts)?$))',
  message:
    'The pure core does not run ffmpeg: of src/media it may only `import type` from src/media/types.ts (RawFrame, EncodeSettings); put decoding/encoding behind the media port.',
};

const CORE_MEDIA_TYPES = {
  regex: '^(\\.{1,2}/)+(.*/)?media/types(\\.js|\\.ts)?$',
  allowTypeImports: true,
  message:
    'The pure core may use src/media/types.ts for types only: write `import type { RawFrame } from …/media/types.js`.',
};

/** `import('…')` is not seen by no-restricted-imports; esquery regexes may not contain `/`, hence \x2F. */
const coreDynamicImport = {
  selector: `ImportExpression[source.value=/^(bullmq|ioredis|fluent-ffmpeg|onnxruntime-node|onnxruntime-common|@aws-sdk|(node:)?child_process)|(^|\\x2F)(config|queue|storage|onnx|embedded|media|workers|app)\\x2F/]`,
  message:
    'The pure core imports no Redis/S3/ffmpeg/onnxruntime/config, ports, workers/ or app/, not even with import(); put side effects behind a port in src/….',
};

const UP_FROM_WORKERS = {
  regex: relativeSegment(['app']),
  message: 'workers/ sits below app/: imports run app/ → workers/ → src/. Move the shared piece into workers/ or src/.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'bench-out/**', 'scratch/**', 'test/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // All of src/ (ports, config, embedded servers, and anything new): never up into workers/ or app/.
  {
    files: ['src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [UP_FROM_SRC] }],
    },
  },
  // The pure core. Options replace (not merge with) the src/ entry above, so it repeats UP_FROM_SRC.
  {
    files: CORE_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [UP_FROM_SRC, CORE_INFRA_PACKAGES, CORE_PORTS, CORE_MEDIA_IMPLEMENTATION, CORE_MEDIA_TYPES],
        },
      ],
      'no-restricted-syntax': ['error', coreDynamicImport],
    },
  },
  {
    files: ['workers/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [UP_FROM_WORKERS] }],
    },
  },
);
