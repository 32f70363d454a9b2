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
  /** The fleet the streams join, their weight and priority in it, and the fleet's budgets. */
  fleet?: string;
  fleetWeight?: number;
  fleetPriority?: number;
  budgetKbps?: number | 'off';
  budgetGpuFps?: number | 'off';
}

function weightOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !(n > 0)) throw new InvalidArgumentError(`--fleet-weight expects a positive number, got "${value}"`);
  return n;
}

function priorityOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || Math.abs(n) > 1000) throw new InvalidArgumentError(`--fleet-priority expects an integer in [-1000, 1000], got "${value}"`);
  return n;
}

/** `600` → 600; `off` clears the budget (commander keeps no null: see budgetChange). */
export function budgetOption(flag: string): (value: string) => number | 'off' {
  return (value: string) => {
    if (value === 'off') return 'off';
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !(n > 0)) throw new InvalidArgumentError(`${flag} expects a positive number (or off), got "${value}"`);
    return n;
  };
}

export function streamOptions(cmd: Command, o: { auditEvery: number; maxSegments: boolean }): Command {
  cmd
    .option('--policy <policy>', 'knob policy: oneadapt[:<param>=<v>,…] | fixed:<knob>=<level>,… | script:<seq>@<knobs>;… (default: ONEADAPT_POLICY)')
    .option('--model <model>', 'model name (yolox-nano, fastestdet, ultraface, ultraface-slim) or [family:]path.onnx (default: ONEADAPT_MODEL)')
    .option('--audit-every <n>', 'measure F1 against a reference encode every n segments (0 = never)', countOption('--audit-every', 0), o.auditEvery)
    .option('--probe-every <n>', 'InputGrad probe (and gradient sample) every n segments, for gradient policies (default: ONEADAPT_PROBE_EVERY)', countOption('--probe-every', 1))
    .option('--levels <ladders>', 'knob ladders, expensive first, e.g. "qp=20,22,24,26,28,30,32;fps=10,5;roi=0,8,16"', (v: string) => parseSpaces(v));
  if (o.maxSegments) cmd.option('--max-segments <n>', 'stop each stream after n segments', countOption('--max-segments', 1));
  cmd
    .option('--fleet <name>', 'join the streams to this fleet: one budget, one price (see `oneadapt fleet`)')
    .option('--fleet-weight <w>', 'how much the streams\' F1 counts in the fleet (default 1)', weightOption)
    .option('--fleet-priority <p>', 'floors (target-f1) of higher priorities are held first when the budget cannot hold them all (default 0)', priorityOption)
    .option('--budget-kbps <n>', 'the fleet\'s total uplink, kbit/s (stored in Redis; `oneadapt fleet set` changes it)', budgetOption('--budget-kbps'))
    .option('--budget-gpu-fps <n>', 'frames inferred per second across the fleet', budgetOption('--budget-gpu-fps'));
  return cmd;
}

/** StreamFlags → the StreamRequest fields they set. */
export function streamRequestOf(f: StreamFlags): Omit<StreamRequest, 'source'> {
  const fleet = f.fleet === undefined ? undefined : { name: f.fleet, ...(f.fleetWeight !== undefined ? { weight: f.fleetWeight } : {}), ...(f.fleetPriority !== undefined ? { priority: f.fleetPriority } : {}) };
  if (!fleet && (f.fleetWeight !== undefined || f.fleetPriority !== undefined)) throw new InvalidArgumentError('--fleet-weight and --fleet-priority need --fleet <name>');
  return { policy: f.policy, model: f.model, auditEvery: f.auditEvery, probeEvery: f.probeEvery, spaces: f.levels, maxSegments: f.maxSegments, ...(fleet ? { fleet } : {}) };
}

/** The fleet budget the flags set, if any (undefined fields: unchanged; null: cleared). */
export function fleetBudgetOf(f: Pick<StreamFlags, 'budgetKbps' | 'budgetGpuFps'>): { kbps?: number | null; gpuFps?: number | null } | undefined {
  if (f.budgetKbps === undefined && f.budgetGpuFps === undefined) return undefined;
  const value = (v: number | 'off') => (v === 'off' ? null : v);
  return { ...(f.budgetKbps !== undefined ? { kbps: value(f.budgetKbps) } : {}), ...(f.budgetGpuFps !== undefined ? { gpuFps: value(f.budgetGpuFps) } : {}) };
}
