import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerModelCommands } from '../../app/cli/model-command.js';
import { decodeModel } from '../../src/autodiff/onnx-io.js';
import { modelBytes, node } from './helpers.js';
import { writeFileSync } from 'node:fs';

describe('model grad', () => {
  it('writes a VJP model and a fused model through commander', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'grad-'));
    const src = path.join(dir, 'm.onnx');
    writeFileSync(src, modelBytes({ nodes: [node('Sigmoid', ['X'], ['Y'])], x: [1, 3, 4, 4], y: [1, 3, 4, 4] }));
    const program = new Command().exitOverride();
    registerModelCommands(program);
    const out = path.join(dir, 'v.onnx');
    await program.parseAsync(['node', 'x', 'model', 'grad', src, '-o', out]);
    const g = decodeModel(readFileSync(out)).graph;
    expect(g?.input?.map((i) => i.name)).toEqual(['X', 'dY']);
    expect(g?.output?.map((o) => o.name)).toEqual(['dX', 'Y']);
    expect(new Set(g?.node?.map((n) => n.domain || '')).size).toBe(1);
  });
});
