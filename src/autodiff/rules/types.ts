// The contract between the reverse sweep and the per-op rules.
import type { Builder } from '../graph.js';
import type { NodeProto, TensorProto } from '../onnx-io.js';
import type { ShapeInfo } from '../shapes.js';

export interface RuleCtx {
  b: Builder;
  info: ShapeInfo;
  opset: number;
  /** Static shape of a forward tensor; throws when unknown. */
  shape(t: string): number[];
  isActive(t: string): boolean;
  constOf(t: string): number[] | undefined;
  init(t: string): TensorProto | undefined;
  /** How many nodes (and graph outputs) read a forward tensor. */
  uses(t: string): number;
  producer(t: string): NodeProto | undefined;
  /** Sums a broadcast gradient back to an operand's shape. */
  reduceTo(g: string, from: number[], to: number[]): string;
  fail(node: NodeProto, why: string): never;
}

/** Returns the gradient of each input (undefined where none flows), given the gradients of the outputs. */
export type Rule = (ctx: RuleCtx, node: NodeProto, gOut: (string | undefined)[]) => (string | undefined)[];
