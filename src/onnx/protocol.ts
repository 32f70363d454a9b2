/** Messages between the inference pool and its worker threads. */

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export interface LoadRequest {
  type: 'load';
  id: number;
  key: string;
  /** ONNX file path, or the serialized model bytes. */
  model: string | Uint8Array;
  providers: string[];
  intraOpThreads: number;
}

export interface RunRequest {
  type: 'run';
  id: number;
  key: string;
  feeds: Record<string, TensorData>;
  fetches: string[];
}

export type Request = LoadRequest | RunRequest;

export type Response =
  | { type: 'loaded'; id: number; providers: string[]; inputNames: string[]; outputNames: string[]; warnings: string[] }
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; ms: number }
  | { type: 'error'; id: number; message: string };
