/**
 * Exact Hamming top-10 over random 64-bit codes, one query at a time: Lumen's WebAssembly kernel
 * (the served one) against a C scan with the hardware popcount (bench/hashing/hamming_scan.c,
 * compiled here with gcc -O3 -march=native) and Debian FAISS IndexBinaryFlat
 * (bench/hashing/faiss_scan.py, /usr/bin/python3), on the very same codes and queries, one
 * thread each. Every answer is checked: the C scan must return the same positions and distances
 * (same tie order), FAISS the same distances.
 *
 * Each size runs `--repeats` rounds back to back (C, WebAssembly, FAISS, ...), each a warm-up
 * pass and a timed pass over all queries; the figures are the medians over the rounds, and the
 * ratios the medians of each round's ratio, so a round slowed by another process on the machine
 * counts once. For the larger size the WebAssembly kernel also runs on `--threads` threads:
 * worker threads attached to the same shared memory, each scanning its own range of positions,
 * the main thread merging their top-k (a bench-only scan: the served index scans on one thread).
 *
 *   npm run build && node dist/bench/hashing/hamming.js [--sizes 1000000,10000000] [--queries 200]
 *     [--large-queries 20] [--repeats 3] [--threads 2]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type TopK, WasmHammingScanner } from '@lumen/hashing';
import type { WorkerQuery, WorkerSetup } from './hamming-worker.js';
import { ROOT, arg, percentile } from './support.js';

const sizes = arg('sizes', '1000000,10000000').split(',').map(Number);
const repeats = Number(arg('repeats', '3'));
const threads = Number(arg('threads', String(Math.min(os.availableParallelism(), 4))));
const k = 10;
const bits = 64;

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

/** Deterministic random bytes (xorshift32), stored big-endian word by word. */
function randomCodes(count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count * 8);
  const view = new DataView(bytes.buffer);
  let s = seed;
  for (let i = 0; i < bytes.length; i += 4) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    view.setUint32(i, s);
  }
  return bytes;
}

/** Lumen's word layout of the same bytes (codes.ts: big-endian 32-bit words). */
function writeWords(bytes: Uint8Array, out: Uint32Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.length / 4; i++) out[i] = view.getUint32(i * 4);
  return out;
}

/** Milliseconds per query of a warm-up pass and then a timed pass over every query. */
function timedPass(nq: number, run: (q: number) => TopK, into: TopK[]): number {
  for (let q = 0; q < nq; q++) run(q);
  const start = performance.now();
  for (let q = 0; q < nq; q++) into[q] = run(q);
  return (performance.now() - start) / nq;
}

async function timedPassAsync(nq: number, run: (q: number) => Promise<TopK>, into: TopK[]): Promise<number> {
  for (let q = 0; q < nq; q++) await run(q);
  const start = performance.now();
  for (let q = 0; q < nq; q++) into[q] = await run(q);
  return (performance.now() - start) / nq;
}

/** The k nearest of several ranges' answers, by distance then position. */
function mergeTopK(parts: TopK[], k: number): TopK {
  const all = parts.flatMap((p) => Array.from(p.indices, (index, i) => ({ index, distance: p.distances[i] })));
  all.sort((a, b) => a.distance - b.distance || a.index - b.index);
  const top = all.slice(0, k);
  return { indices: Int32Array.from(top, (e) => e.index), distances: Uint16Array.from(top, (e) => e.distance) };
}

/** Scans [0, count) on `lanes` threads: the main thread takes the first range, workers the others. */
class ThreadedScan {
  private readonly workers: { worker: Worker; pending: ((answer: TopK) => void) | null }[];
  private readonly end: number;

  constructor(
    private readonly scanner: WasmHammingScanner,
    count: number,
    lanes: number,
  ) {
    const cut = (t: number) => Math.round((count * t) / lanes / 8) * 8;
    this.end = cut(1);
    this.workers = Array.from({ length: lanes - 1 }, (_, i) => {
      const setup: WorkerSetup = { memory: scanner.memory, capacity: count, maxK: k, lanes, lane: i + 1, start: cut(i + 1), end: i + 2 === lanes ? count : cut(i + 2) };
      const entry = { worker: new Worker(new URL('./hamming-worker.js', import.meta.url), { workerData: setup }), pending: null as ((answer: TopK) => void) | null };
      entry.worker.on('message', (answer: TopK) => entry.pending?.(answer));
      entry.worker.on('error', (error) => {
        throw error;
      });
      return entry;
    });
  }

  async topK(query: Uint32Array): Promise<TopK> {
    const message: WorkerQuery = { query, k, maxDistance: bits };
    const answers = this.workers.map(
      (w) =>
        new Promise<TopK>((resolve) => {
          w.pending = resolve;
          w.worker.postMessage(message);
        }),
    );
    const mine = this.scanner.topKRange(0, this.end, query, 0, k, bits, null, 0);
    return mergeTopK([mine, ...(await Promise.all(answers))], k);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

type Native = { msPerQuery: number; indices: number[][]; distances: number[][] };
type Faiss = { oneAtATimeMs: number; allQueriesMs: number; version: string; distances: number[][] };

function sameAnswers(name: string, reference: TopK[], indices: number[][] | null, distances: number[][]): void {
  reference.forEach((r, q) => {
    if ([...r.distances].join() !== distances[q].join()) throw new Error(`${name}, query ${q}: distances ${distances[q]} differ from Lumen's ${[...r.distances]}`);
    if (indices && [...r.indices].join() !== indices[q].join()) throw new Error(`${name}, query ${q}: positions ${indices[q]} differ from Lumen's ${[...r.indices]}`);
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-hamming-'));
const scanBinary = path.join(dir, 'hamming_scan');
execFileSync('gcc', ['-O3', '-march=native', '-o', scanBinary, path.join(ROOT, 'bench', 'hashing', 'hamming_scan.c')]);
const gcc = execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0];

const report: Record<string, unknown>[] = [];
try {
  for (const n of sizes) {
    const large = n > 1_000_000;
    const nq = Number(large ? arg('large-queries', '20') : arg('queries', '200'));
    const dbBytes = randomCodes(n, 2463534242);
    const queryBytes = randomCodes(nq, 88675123);
    const dbFile = path.join(dir, 'db.u8');
    const queryFile = path.join(dir, 'q.u8');
    fs.writeFileSync(dbFile, dbBytes);
    fs.writeFileSync(queryFile, queryBytes);
    const queries = writeWords(queryBytes, new Uint32Array(nq * 2));
    const scanner = new WasmHammingScanner(n, k, { lanes: threads });
    writeWords(dbBytes, scanner.codes());
    const threaded = large && threads > 1 ? new ThreadedScan(scanner, n, threads) : null;

    const rounds: Record<string, number>[] = [];
    for (let r = 0; r < repeats; r++) {
      const row: Record<string, number> = {};
      const native = JSON.parse(execFileSync(scanBinary, [dbFile, queryFile, String(k)], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Native;
      row.c = native.msPerQuery;
      const wasm: TopK[] = [];
      row.wasm = timedPass(nq, (q) => scanner.topK(n, queries, q * 2, k, bits), wasm);
      sameAnswers('C scan', wasm, native.indices, native.distances);
      if (threaded) {
        const many: TopK[] = [];
        row.wasmThreads = await timedPassAsync(nq, (q) => threaded.topK(queries.subarray(q * 2, q * 2 + 2)), many);
        sameAnswers(`${threads}-thread scan`, wasm, many.map((a) => [...a.indices]), many.map((a) => [...a.distances]));
      }
      const faiss = JSON.parse(execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'hashing', 'faiss_scan.py'), dbFile, queryFile, String(k)], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Faiss;
      sameAnswers(`FAISS ${faiss.version}`, wasm, null, faiss.distances);
      row.faiss = faiss.oneAtATimeMs;
      row.faissAllQueries = faiss.allQueriesMs;
      rounds.push(row);
      console.error(`${n} codes, round ${r + 1}/${repeats}: ${Object.entries(row).map(([name, ms]) => `${name} ${ms.toFixed(3)}`).join(', ')} ms/query`);
    }
    await threaded?.close();

    const ms = Object.fromEntries(Object.keys(rounds[0]).map((name) => [name, round3(median(rounds.map((row) => row[name])))]));
    const ratio = (a: string, b: string) => round3(median(rounds.map((row) => row[a] / row[b])));
    const ratios: Record<string, number> = { wasmOverC: ratio('wasm', 'c'), wasmOverFaiss: ratio('wasm', 'faiss') };
    if (threaded) {
      ratios[`wasm${threads}ThreadsOverC`] = ratio('wasmThreads', 'c');
      ratios[`wasm${threads}ThreadsOverWasm`] = ratio('wasmThreads', 'wasm');
    }
    const targets = { wasmOverC: 1.5, wasmOverFaiss: 0.4 };
    const met = Object.fromEntries(Object.entries(targets).map(([name, limit]) => [name, ratios[name] <= limit]));
    report.push({ codes: n, queries: nq, k, bits, msPerQueryMedian: ms, ratiosMedian: ratios, targets, met });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

console.log(
  JSON.stringify(
    {
      timing: `ms per query, one query at a time, median of ${repeats} rounds run back to back`,
      sizes: report,
      threads,
      node: process.version,
      gcc,
      cpu: os.cpus()[0]?.model,
      loadAverage: os.loadavg().map(round3),
    },
    null,
    2,
  ),
);
