/**
 * A worker thread of bench/hashing/hamming.ts's many-thread scan: it attaches to the scanner's
 * shared WebAssembly memory (no copy of the codes) and answers each query for its own range of
 * positions with its own candidate lane; the main thread merges the ranges' top-k.
 */
import { parentPort, workerData } from 'node:worker_threads';
// The kernel module itself, not @lumen/hashing's index (which loads ONNX Runtime and sharp).
import { WasmHammingScanner } from '../../libs/hashing/src/kernels/hamming-wasm.js';

export type WorkerSetup = { memory: WebAssembly.Memory; capacity: number; maxK: number; lanes: number; lane: number; start: number; end: number };
export type WorkerQuery = { query: Uint32Array; k: number; maxDistance: number };

const setup = workerData as WorkerSetup;
const scanner = new WasmHammingScanner(setup.capacity, setup.maxK, { memory: setup.memory, lanes: setup.lanes });
parentPort!.on('message', ({ query, k, maxDistance }: WorkerQuery) => {
  parentPort!.postMessage(scanner.topKRange(setup.start, setup.end, query, 0, k, maxDistance, null, setup.lane));
});
