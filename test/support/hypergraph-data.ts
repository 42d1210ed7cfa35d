/**
 * The benchmark hypergraphs of ../shared/data/hypergraph and the served models' evaluation files,
 * for the hypergraph e2e suites and benches.
 */
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { parse } from 'npyjs';

/** Folder names of the datasets under shared/data/hypergraph, by API dataset name. */
export const DATASET_FOLDERS: Record<string, string> = { gps: 'GPS', movielens: 'MovieLens', drug: 'drug', wordnet: 'wordnet' };

/** Hyperedges as per-type ids, `rows × columns`, row-major. */
export type EdgeMatrix = { rows: number; columns: number; ids: Int32Array };

/**
 * The `train_data` or `test_data` matrix of a hypergraph .npz (a zip of .npy files): int64, or
 * float64 holding whole numbers (MovieLens), returned as int32.
 */
export function readNpzEdges(file: string, key: 'train_data' | 'test_data'): EdgeMatrix {
  const entry = `${key}.npy`;
  const npy = unzipSync(fs.readFileSync(file), { filter: (f) => f.name === entry })[entry];
  if (!npy) throw new Error(`${file} has no ${entry}`);
  const array = parse(npy.buffer.slice(npy.byteOffset, npy.byteOffset + npy.byteLength) as ArrayBuffer);
  if (array.shape.length !== 2 || array.fortranOrder) throw new Error(`${file}:${entry}: expected a C-order matrix, got shape ${array.shape}`);
  const [rows, columns] = array.shape;
  if (!['i8', 'i4', 'f8'].includes(array.dtype)) throw new Error(`${file}:${entry}: dtype ${array.dtype} is not int64, int32 or float64`);
  const source = array.data as BigInt64Array | Int32Array | Float64Array;
  const ids = new Int32Array(rows * columns);
  for (let i = 0; i < ids.length; i++) {
    const value = Number(source[i]);
    if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) throw new Error(`${file}:${entry}: element ${i} (${value}) is not a node id`);
    ids[i] = value;
  }
  return { rows, columns, ids };
}

/** Every hyperedge of a dataset's train and test files, concatenated. */
export function readAllEdges(sharedData: string, dataset: string): Int32Array {
  const folder = path.join(sharedData, 'hypergraph', DATASET_FOLDERS[dataset] ?? dataset);
  const train = readNpzEdges(path.join(folder, 'train_data.npz'), 'train_data').ids;
  const test = readNpzEdges(path.join(folder, 'test_data.npz'), 'test_data').ids;
  const all = new Int32Array(train.length + test.length);
  all.set(train);
  all.set(test, train.length);
  return all;
}

/** The folder of the version the registry serves: the highest numbered one in models/<name>. */
export function servedModelDir(modelsDir: string, name: string): string {
  const versions = fs.readdirSync(path.join(modelsDir, name)).filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(modelsDir, name, v, 'model.onnx')));
  if (!versions.length) throw new Error(`no version of ${name} in ${modelsDir}`);
  return path.join(modelsDir, name, String(Math.max(...versions.map(Number))));
}
