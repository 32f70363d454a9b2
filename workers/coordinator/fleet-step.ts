import type { MemberObservation } from '../../src/adapt/fleet-price.js';
import { parseOneAdaptParams } from '../../src/adapt/oneadapt-policy.js';
import type { PolicyDecision } from '../../src/adapt/policy.js';
import type { FleetReading } from '../../src/queue/fleet-register.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import type { StreamMeta } from '../../src/records/stream.js';

/** What a policy step reports about the stream's fleet after its result was counted (monitoring). */
export interface FleetStepInfo {
  name: string;
  /** F1 per kbit/s (per frame/s) the members step at before their weights; absent before the first. */
  priceBw?: number;
  priceGpu?: number;
  budgetKbps?: number;
  budgetGpuFps?: number;
  /** The live members' moving rates, summed. */
  spendKbps: number;
  spendGpuFps: number;
  members: number;
  /** Every live member's share of the fleet's spend. */
  shares: Record<string, number>;
}

export function fleetStepInfo(r: FleetReading): FleetStepInfo {
  return {
    name: r.name,
    ...(r.priceBw !== undefined ? { priceBw: r.priceBw } : {}),
    ...(r.priceGpu !== undefined ? { priceGpu: r.priceGpu } : {}),
    ...(r.budget.kbps !== undefined ? { budgetKbps: r.budget.kbps } : {}),
    ...(r.budget.gpuFps !== undefined ? { budgetGpuFps: r.budget.gpuFps } : {}),
    spendKbps: r.totals.kbps,
    spendGpuFps: r.totals.gpuFps,
    members: r.totals.members,
    shares: r.shares,
  };
}

/** The floor (target F1) a member's policy holds, if any: the fleet keeps it unless priorities say otherwise. */
export function floorOf(policySpec: string): number | undefined {
  if (!policySpec.startsWith('oneadapt:')) return undefined;
  return parseOneAdaptParams(policySpec.slice('oneadapt:'.length)).targetF1;
}

/**
 * One result as the fleet counts it: what the segment sent (its policy audit included: charged to
 * the stream) and had inferred, per second of video; the member's weight, priority and floor; its
 * step's report. A result for the stream's last segment takes it out of the fleet.
 */
export function memberObservation(meta: StreamMeta, result: ResultJob, decision: PolicyDecision<unknown> | undefined): Omit<MemberObservation, 'nowMs'> {
  const segS = meta.segmentSeconds;
  const audited = (result.auditBytes ?? 0) > 0 || typeof result.auditF1 === 'number';
  const floor = floorOf(meta.policy);
  return {
    streamId: result.streamId,
    seq: result.seq,
    kbps: ((result.bytes + (result.auditBytes ?? 0)) * 8) / 1000 / segS,
    gpuFps: (result.frames + (audited ? 1 : 0)) / segS,
    weight: meta.fleet?.weight ?? 1,
    priority: meta.fleet?.priority ?? 0,
    ...(floor !== undefined ? { floorF1: floor } : {}),
    ...(decision?.fleet ? { report: decision.fleet } : {}),
    ...(meta.totalSegments !== undefined && result.seq >= meta.totalSegments - 1 ? { last: true } : {}),
  };
}
