import path from 'node:path';
import type * as ort from 'onnxruntime-node';

export type ExecutionProvider = 'cuda' | 'cpu';

/** The ONNX file of a model version's folder (`<MODELS_DIR>/<name>/<version>/model.onnx`). */
export function modelFile(directory: string): string {
  return path.join(directory, 'model.onnx');
}

/** The session options every ONNX Runtime session of Lumen is opened with (the registry's, and the cascade thread's own). */
export function sessionOptions(provider: ExecutionProvider, threads: number): ort.InferenceSession.SessionOptions {
  return { executionProviders: [provider], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
}
