// The resolved import graph of src/, workers/ and app/: imports run one way
// (app/ → workers/ → src/), and there are no cycles between folders or between files.
// Type-only edges count too (they are marked), so a cycle cannot hide behind `import type`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAYERS = ['src', 'workers', 'app'] as const;
type Layer = (typeof LAYERS)[number];

interface Edge {
  from: string;
  to: string;
  /** Every import along this edge is erased at run time (`import type`, `export type`, `import('…').T`). */
  typeOnly: boolean;
}

function listTs(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries.sort()) {
    const rel = `${dir}/${name}`;
    const st = statSync(path.join(ROOT, rel));
    if (st.isDirectory()) {
      if (name !== 'node_modules') out.push(...listTs(rel));
    } else if (/\.(c|m)?ts$/.test(name)) {
      out.push(rel);
    }
  }
  return out;
}

/** Every module specifier in `file`, and whether it is only ever used for types. */
function specifiers(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings : undefined;
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name && !!named && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const typeOnly =
        node.isTypeOnly ||
        (!!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      out.push({ spec: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ spec: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      out.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** A relative specifier resolved to a repo-relative .ts file, the way NodeNext maps `.js` to `.ts`. */
function resolve(from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidates = [base];
  const m = /^(.*)\.(m|c)?js$/.exec(base);
  if (m) candidates.push(`${m[1]}.${m[2] ?? ''}ts`);
  candidates.push(`${base}.ts`, `${base}/index.ts`);
  return candidates.find((c) => known.has(c));
}

function buildGraph(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = LAYERS.flatMap((l) => listTs(l));
  const known = new Set(files);
  const byPair = new Map<string, Edge>();
  const unresolved: string[] = [];
  for (const from of files) {
    for (const { spec, typeOnly } of specifiers(from)) {
      const to = resolve(from, spec, known);
      if (!to) {
        // Relative, but not a .ts file here: fine if it is some other file (package.json), else an edge we cannot see.
        const target = path.join(ROOT, path.dirname(from), spec);
        if (spec.startsWith('.') && !statSync(target, { throwIfNoEntry: false })?.isFile()) {
          unresolved.push(`  ${from} → '${spec}'`);
        }
        continue;
      }
      const key = `${from}\0${to}`;
      const seen = byPair.get(key);
      if (seen) seen.typeOnly &&= typeOnly;
      else byPair.set(key, { from, to, typeOnly });
    }
  }
  return { files, edges: [...byPair.values()], unresolved };
}

const layerOf = (file: string): Layer => file.split('/')[0] as Layer;

/** Second-level folder (`src/knobs`, `workers/ingest`, `app/cli`); files at the top of a layer are `app/` etc. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : `${parts[0]}/`;
}

/** Tarjan: the strongly-connected components with more than one node, or with a self-loop. */
function cycles(nodes: string[], edges: { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) strong(n);
  return out;
}

/** One shortest cycle through the first member of `scc`, for a readable message. */
function shortestCycle(scc: string[], edges: { from: string; to: string }[]): string[] {
  const inside = new Set(scc);
  const start = scc[0];
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const e of edges) {
      if (e.from !== v || !inside.has(e.to)) continue;
      if (e.to === start) {
        const pathBack = [v];
        for (let u = v; u !== start; u = prev.get(u)!) pathBack.push(prev.get(u)!);
        return [...pathBack.reverse(), start];
      }
      if (!seen.has(e.to)) {
        seen.add(e.to);
        prev.set(e.to, v);
        queue.push(e.to);
      }
    }
  }
  return [start];
}

const describeEdge = (e: Edge): string => `  ${e.from} → ${e.to}${e.typeOnly ? '  (type-only)' : ''}`;

function describeCycles(kind: string, sccs: string[][], edges: Edge[], detail?: (e: Edge) => string): string {
  return sccs
    .map((scc, i) => {
      const inside = new Set(scc);
      const within = edges.filter((e) => inside.has(e.from) && inside.has(e.to));
      return [
        `${kind} cycle ${i + 1}: ${shortestCycle(scc, within).join(' → ')}`,
        `  members: ${scc.join(', ')}`,
        '  edges inside it:',
        ...within.map((e) => `  ${describeEdge(e)}${detail ? `\n${detail(e)}` : ''}`),
      ].join('\n');
    })
    .join('\n\n');
}

const graph = buildGraph();

describe('import graph of src/, workers/, app/', () => {
  it('detects cycles at all (self-check on a made-up graph)', () => {
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'c', to: 'd' },
      { from: 'e', to: 'e' },
    ];
    expect(cycles(['a', 'b', 'c', 'd', 'e'], edges)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(shortestCycle(['a', 'b', 'c'], edges)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('finds the files and resolves their relative imports', () => {
    expect(graph.files.filter((f) => f.startsWith('src/')).length).toBeGreaterThan(20);
    expect(graph.files.filter((f) => f.startsWith('workers/')).length).toBeGreaterThan(0);
    expect(graph.files.filter((f) => f.startsWith('app/')).length).toBeGreaterThan(0);
    expect(graph.edges.length).toBeGreaterThan(graph.files.length);
    expect(graph.unresolved, `relative imports that resolve to no file (the graph would miss them):\n${graph.unresolved.join('\n')}`).toEqual([]);
  });

  it('has no import running up the layers (src → workers/app, workers → app)', () => {
    const up = graph.edges.filter((e) => LAYERS.indexOf(layerOf(e.to)) > LAYERS.indexOf(layerOf(e.from)));
    expect(up.map(describeEdge), `imports run app/ → workers/ → src/; these run up:\n${up.map(describeEdge).join('\n')}`).toEqual([]);
  });

  it('has no cycle between folders (src/knobs, workers/ingest, app/cli, …)', () => {
    const folderEdges = new Map<string, Edge>();
    const through = new Map<string, Edge[]>();
    for (const e of graph.edges) {
      const from = folderOf(e.from);
      const to = folderOf(e.to);
      if (from === to) continue;
      const key = `${from}\0${to}`;
      const seen = folderEdges.get(key);
      if (seen) seen.typeOnly &&= e.typeOnly;
      else folderEdges.set(key, { from, to, typeOnly: e.typeOnly });
      through.set(key, [...(through.get(key) ?? []), e]);
    }
    const edges = [...folderEdges.values()];
    const folders = [...new Set(graph.files.map(folderOf))].sort();
    const sccs = cycles(folders, edges);
    const message = describeCycles('folder', sccs, edges, (e) =>
      (through.get(`${e.from}\0${e.to}`) ?? []).map((f) => `        via ${f.from} → ${f.to}${f.typeOnly ? '  (type-only)' : ''}`).join('\n'),
    );
    expect(sccs, `folders import each other in a cycle:\n${message}`).toEqual([]);
  });

  it('has no cycle between files', () => {
    const sccs = cycles(graph.files, graph.edges);
    expect(sccs, `files import each other in a cycle:\n${describeCycles('file', sccs, graph.edges)}`).toEqual([]);
  });
});
