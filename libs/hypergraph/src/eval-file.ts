import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { type EvalRows, decodeEvalRows } from './kernels/eval-rows.js';

/** Name of the file, beside model.onnx, holding the exact candidates of the card's test metrics. */
export const EVAL_FILE = 'test-eval.bin.gz';

/** Reads `<modelDirectory>/test-eval.bin.gz`, or another evaluation file of the same format there. */
export function readEvalFile(modelDirectory: string, typeCount: number, file = EVAL_FILE): EvalRows {
  return decodeEvalRows(zlib.gunzipSync(fs.readFileSync(path.join(modelDirectory, file))), typeCount);
}
