import { EMPTY_FLEET, fleetTotals, fleetView, observeMember, type FleetBudget, type FleetState } from '../../src/adapt/fleet-price.js';
import { carriesRegion, type Policy, type PolicyDecision } from '../../src/adapt/policy.js';
import { sameSetting } from '../../src/knobs/space.js';
import type { PolicyTrace, SegmentOutcome, StreamPort, TraceRow } from './drive.js';

/** Per second of the fleet: its price and what its members were about to spend. */
export interface FleetTick {
  t: number;
  priceBw: number | null;
  /** The fleet's estimate of its spend after the second's results (kbit/s). */
  plannedKbps: number;
  members: number;
}

interface Camera<O extends SegmentOutcome> {
  id: string;
  port: StreamPort<O>;
  decision: PolicyDecision<unknown>;
  version: number;
  region?: string;
  auditNext: boolean;
  trace: PolicyTrace<O>;
}

/**
 * A fleet over the measured grid the way production runs it: every camera's segment n is
 * encoded with the knobs decided after its segment n−1 (as drivePolicy), each camera's policy
 * steps at the fleet's prices as they stand when its result comes in, and the fleet counts each
 * result (observeMember, what the coordinator calls) — the shared price moves on the fleet's
 * total every segment. A camera whose footage ends leaves the fleet with its last result (as
 * `run` makes it leave), so the others get its share at once.
 */
export async function driveFleet<O extends SegmentOutcome>(policy: Policy, ports: readonly { id: string; port: StreamPort<O> }[], budget: FleetBudget, onSegment?: () => void): Promise<{ traces: PolicyTrace<O>[]; ticks: FleetTick[]; state: FleetState }> {
  const join = { budgetBw: false, budgetGpu: false, floorHonoured: true };
  const cams: Camera<O>[] = ports.map(({ id, port }) => ({
    id,
    port,
    decision: policy.initial({ ...port.ctx, fleet: join }),
    version: 0,
    auditNext: false,
    trace: { policy: policy.name, rows: [], adaptationDelaysS: [], updates: [] },
  }));
  let fleet: FleetState = EMPTY_FLEET;
  const ticks: FleetTick[] = [];
  const longest = Math.max(...ports.map((p) => p.port.segments));
  for (let seq = 0; seq < longest; seq++) {
    for (const cam of cams) {
      const { port } = cam;
      if (seq >= port.segments) continue;
      const ctx = port.ctx;
      const segS = ctx.segmentSeconds ?? 1;
      const wholeSlots = Math.round(ctx.spaces.fps[0] * segS);
      const setting = cam.decision.setting;
      const roiMask = setting.roi > 0 ? cam.region : undefined;
      const outcome = await port.evaluate(seq, setting, roiMask);
      const grad =
        policy.needsGradients && outcome.slots === wholeSlots
          ? await port.gradients(seq, setting, outcome, { roiMask: carriesRegion(policy, setting, ctx.spaces) ? cam.region : undefined, knobs: policy.probedKnobs, reference: policy.probesReference })
          : undefined;
      cam.region = port.region?.(outcome, grad?.saliency);
      const audit = cam.auditNext && port.audit && outcome.slots === wholeSlots ? await port.audit(seq, outcome) : undefined;
      const view = fleetView(fleet, budget, { weight: 1, priority: 0 });
      const decision = policy.step(cam.decision.state, { seq, setting, bytes: outcome.bytes, frames: outcome.frames, proxy: outcome.proxy, f1: null, auditF1: audit?.f1 ?? null, auditBytes: audit?.bytes, gradients: grad?.terms }, { ...ctx, fleet: view });
      if (grad) cam.trace.adaptationDelaysS.push(segS);
      const row: TraceRow<O> = { seq, setting, knobVersion: cam.version, outcome, probeMs: grad?.probeMs ?? 0, gradMs: grad?.gradMs ?? 0, profileMs: 0, profileFrames: 0, audit, state: decision.state, terms: grad?.terms, roiMask };
      cam.trace.rows.push(row);
      fleet = observeMember(fleet, budget, {
        streamId: cam.id,
        seq,
        nowMs: seq * segS * 1000,
        kbps: ((outcome.bytes + (audit?.bytes ?? 0)) * 8) / 1000 / segS,
        gpuFps: (outcome.frames + (audit ? 1 : 0)) / segS,
        weight: 1,
        priority: 0,
        ...(decision.fleet ? { report: decision.fleet } : {}),
        ...(seq === port.segments - 1 ? { last: true } : {}),
      });
      if (!sameSetting(decision.setting, setting) && seq + 1 < port.segments) {
        cam.version++;
        cam.trace.updates.push({ version: cam.version, validFromSeq: seq + 1, afterSeq: seq, setting: decision.setting });
      }
      cam.decision = decision;
      cam.auditNext = decision.audit === true;
      onSegment?.();
    }
    const totals = fleetTotals(fleet);
    ticks.push({ t: seq, priceBw: fleet.logPriceBw === undefined ? null : Math.exp(fleet.logPriceBw), plannedKbps: totals.kbps, members: totals.members });
  }
  return { traces: cams.map((c) => c.trace), ticks, state: fleet };
}
