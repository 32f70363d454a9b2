// The images' Dockerfiles: no lint errors (dockerfile-utils), and the structure the deployment
// relies on (docs/deploying.md). `npm run test:compose` builds them for real.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCKERFILES = ['infra/Dockerfile', 'infra/Dockerfile.cuda', 'infra/compose-test/Dockerfile.standins'];
/** LSP DiagnosticSeverity.Error. */
const ERROR = 1;

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions with continuation lines joined; comments and blank lines dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const [keyword, ...rest] = whole.split(/\s+/);
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
  });
  return out;
}

function stages(text: string): { args: Record<string, string>; stages: Stage[] } {
  const args: Record<string, string> = {};
  const list: Stage[] = [];
  for (const ins of instructions(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`FROM at line ${ins.line}: ${ins.args}`);
      list.push({ from: m[1], name: m[2], instructions: [] });
    } else if (list.length === 0 && ins.keyword === 'ARG') {
      const [name, value = ''] = ins.args.split('=');
      args[name] = value;
    } else {
      list.at(-1)?.instructions.push(ins);
    }
  }
  return { args, stages: list };
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const find = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => find(stage, 'RUN').map((i) => i.args).join('\n');
/** The default of `${NAME}` from the global ARGs. */
const resolveFrom = (from: string, args: Record<string, string>) => from.replace(/^\$\{?([A-Z_]+)\}?$/, (_, name: string) => args[name] ?? '');

describe('Dockerfiles lint clean', () => {
  for (const file of DOCKERFILES) {
    it(file, () => {
      const errors = validate(read(file)).filter((d) => d.severity === ERROR);
      expect(errors.map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    });
  }

  it('the linter reports errors in a broken Dockerfile', () => {
    const diagnostics = validate('FROM\nCOPY --bogus a b\nHEALTHCHECK --interval=abc CMD true\n').filter((d) => d.severity === ERROR);
    expect(diagnostics.map((d) => d.range.start.line)).toEqual([0, 1, 2]);
  });
});

/** What both role images share: runtime stage from the built one, non-root, healthcheck, entrypoint. */
function expectRuntime(stage: Stage, file: string) {
  const users = find(stage, 'USER');
  expect(users, `${file}: USER in the runtime stage`).toHaveLength(1);
  const user = users[0].args.split(':')[0];
  expect(user).toBe('10001');
  expect(runs(stage)).toMatch(/useradd --uid 10001\b/);

  const health = find(stage, 'HEALTHCHECK');
  expect(health).toHaveLength(1);
  expect(health[0].args).toMatch(/--start-period=\d+s/);
  expect(health[0].args).toMatch(/CMD \["node", "-e", ".*\/healthz/);
  expect(health[0].args).toMatch(/ONEADAPT_METRICS_PORT\|\|9464/);

  expect(find(stage, 'ENTRYPOINT').map((i) => i.args)).toEqual(['["oneadapt"]']);
  expect(runs(stage)).toMatch(/ln -s \/app\/dist\/app\/cli\/main\.js \/usr\/local\/bin\/oneadapt/);
  expect(runs(stage)).toMatch(/apt-get install -y --no-install-recommends ffmpeg/);

  // Only the built output and production dependencies come over; no sources, no install.
  const copies = find(stage, 'COPY').map((i) => i.args);
  expect(copies.every((c) => c.startsWith('--from=build '))).toBe(true);
  expect(copies.some((c) => /\/src\/node_modules \.\/node_modules$/.test(c))).toBe(true);
  expect(copies.some((c) => /\/src\/dist \.\/dist$/.test(c))).toBe(true);
  expect(runs(stage)).not.toMatch(/npm (ci|install)/);

  const env = find(stage, 'ENV').map((i) => i.args).join(' ');
  expect(env).toMatch(/ONEADAPT_MODELS_DIR=\/models/);
  expect(env).toMatch(/ONEADAPT_METRICS_HOST=0\.0\.0\.0/);
}

/** The build stage: locked install of all dependencies, the build, then production ones only. */
function expectBuild(stage: Stage) {
  expect(stage.name).toBe('build');
  const commands = runs(stage);
  expect(commands).toMatch(/npm ci --ignore-scripts/);
  expect(commands).toMatch(/npm run build/);
  expect(commands).toMatch(/npm prune --omit=dev/);
  // npm 11 refuses --allow-scripts on a project's `npm ci`; the allowed script runs by `npm rebuild`.
  expect(commands).not.toMatch(/--allow-scripts/);
  const copied = find(stage, 'COPY').map((i) => i.args.split(/\s+/)[0]);
  expect(copied).toEqual(expect.arrayContaining(['package.json', 'src', 'workers', 'app']));
}

describe('infra/Dockerfile (CPU, every role)', () => {
  const { args, stages: list } = stages(read('infra/Dockerfile'));

  it('builds on Node 22 in two stages', () => {
    expect(args.NODE_IMAGE).toMatch(/^node:22(-[a-z]+)*-slim$|^node:22-bookworm/);
    expect(list.map((s) => resolveFrom(s.from, args))).toEqual([args.NODE_IMAGE, args.NODE_IMAGE]);
    expectBuild(list[0]);
    expect(find(list[0], 'ENV').map((i) => i.args)).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
  });

  it('runs as uid 10001 with ffmpeg, a /healthz healthcheck and the oneadapt entrypoint', () => {
    expectRuntime(list[1], 'infra/Dockerfile');
    expect(find(list[1], 'CMD').map((i) => i.args)).toEqual(['["up"]']);
  });
});

describe('infra/Dockerfile.cuda (worker)', () => {
  const { args, stages: list } = stages(read('infra/Dockerfile.cuda'));

  it('builds on Node 22 with the CUDA 12 provider download, runs on CUDA 12 with cuDNN', () => {
    expect(args.NODE_IMAGE).toMatch(/^node:22/);
    expect(args.CUDA_IMAGE).toMatch(/^nvidia\/cuda:12\.\d+(\.\d+)?-cudnn-runtime-ubuntu\d\d\.\d\d$/);
    expect(list.map((s) => resolveFrom(s.from, args))).toEqual([args.NODE_IMAGE, args.CUDA_IMAGE]);
    expectBuild(list[0]);
    const build = list[0];
    expect(find(build, 'ARG').map((i) => i.args)).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(runs(build)).toMatch(/ONNXRUNTIME_NODE_INSTALL="\$ONNXRUNTIME_NODE_INSTALL" npm rebuild onnxruntime-node/);
    expect(runs(build)).toMatch(/libonnxruntime_providers_cuda\.so/);
  });

  it('copies Node 22 into the CUDA runtime and defaults to cuda,cpu', () => {
    const runtime = list[1];
    expectRuntime(runtime, 'infra/Dockerfile.cuda');
    expect(find(runtime, 'COPY').map((i) => i.args)).toContain('--from=build /usr/local/bin/node /usr/local/bin/node');
    expect(find(runtime, 'ENV').map((i) => i.args).join(' ')).toMatch(/ONEADAPT_EXECUTION_PROVIDERS=cuda,cpu/);
    expect(find(runtime, 'CMD').map((i) => i.args)).toEqual(['["worker"]']);
  });

  it('builds the same dependency layer as the CPU image (a shared build cache)', () => {
    const cpu = stages(read('infra/Dockerfile')).stages[0].instructions;
    const upToInstall = (list: Instruction[]) => list.slice(0, list.findIndex((i) => /npm ci/.test(i.args)) + 1);
    const strip = (list: Instruction[]) => list.map((i) => `${i.keyword} ${i.args}`);
    expect(strip(upToInstall(list[0].instructions))).toEqual(strip(upToInstall(cpu)));
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignored = (p: string) =>
    patterns.some((pattern) => {
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`);
      return re.test(p);
    });

  it('keeps node_modules, dist, .git, bench output and .env out of the build context', () => {
    for (const p of ['node_modules', 'dist', '.git', 'bench-out', '.env', 'node_modules/x/y.js']) expect(ignored(p), p).toBe(true);
  });

  it('keeps every file the Dockerfiles copy from the context', () => {
    for (const file of ['infra/Dockerfile', 'infra/Dockerfile.cuda']) {
      for (const stage of stages(read(file)).stages) {
        for (const copy of find(stage, 'COPY').filter((i) => !i.args.startsWith('--from='))) {
          const sources = copy.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
          for (const source of sources) {
            expect(existsSync(path.join(ROOT, source)), `${file}: ${source}`).toBe(true);
            expect(ignored(source), `${file}: ${source} is in .dockerignore`).toBe(false);
          }
        }
      }
    }
  });
});
