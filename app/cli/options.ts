import { InvalidArgumentError, type Command } from 'commander';
import { parseSpaces, type KnobSpaces } from '../../src/knobs/space.js';
import type { StreamRequest } from '../../workers/ingest/stream-options.js';

/** A flag that takes a whole number ≥ min: anything else is refused with what was expected. */
export function countOption(flag: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${flag} expects an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** The flags every command that starts streams takes; unset ones fall back to the configuration. */
export interface StreamFlags {
  policy?: string;
  model?: string;
  auditEvery?: number;
  probeEvery?: number;
  levels?: KnobSpaces;
  maxSegments?: number;
}

export function streamOptions(cmd: Command, o: { auditEvery: number; maxSegments: boolean }): Command {
  cmd
    .option('--policy <policy>', 'knob policy: oneadapt[:<param>=<v>,…] | fixed:<knob>=<level>,… | script:<seq>@<knobs>;… (default: ONEADAPT_POLICY)')
    .option('--model <model>', 'model name (yolox-nano, fastestdet, ultraface, ultraface-slim) or [family:]path.onnx (default: ONEADAPT_MODEL)')
    .option('--audit-every <n>', 'measure F1 against a reference encode every n segments (0 = never)', countOption('--audit-every', 0), o.auditEvery)
    .option('--probe-every <n>', 'InputGrad probe (and gradient sample) every n segments, for gradient policies (default: ONEADAPT_PROBE_EVERY)', countOption('--probe-every', 1))
    .option('--levels <ladders>', 'knob ladders, expensive first, e.g. "qp=20,22,24,26,28,30,32;fps=10,5;roi=0,8,16"', (v: string) => parseSpaces(v));
  if (o.maxSegments) cmd.option('--max-segments <n>', 'stop each stream after n segments', countOption('--max-segments', 1));
  return cmd;
}

/** StreamFlags → the StreamRequest fields they set. */
export function streamRequestOf(f: StreamFlags): Omit<StreamRequest, 'source'> {
  return { policy: f.policy, model: f.model, auditEvery: f.auditEvery, probeEvery: f.probeEvery, spaces: f.levels, maxSegments: f.maxSegments };
}
