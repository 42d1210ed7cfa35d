import os from 'node:os';
import { Float16Array } from '@petamoriken/float16';
import type { TensorSpec } from '@lumen/inference';

/**
 * Tensor data as the Open Inference Protocol carries it (JSON numbers, row-major, flat or
 * nested; or little-endian bytes with the binary tensor extension) and as ONNX Runtime holds it
 * (typed arrays; FP16 as Uint16Array bit patterns).
 */

/** Protocol datatype of each ONNX Runtime tensor type. */
export const DATATYPE_OF = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
} as const;
export type OrtType = keyof typeof DATATYPE_OF;
export type Datatype = (typeof DATATYPE_OF)[OrtType];

/** Every datatype the protocol names (BYTES: strings, which no served model takes). */
export const PROTOCOL_DATATYPES: readonly string[] = [...Object.values(DATATYPE_OF), 'BYTES'];

/** The datatype of a model card's tensor. */
export function datatypeOf(spec: Pick<TensorSpec, 'dtype'>): Datatype {
  return DATATYPE_OF[spec.dtype];
}

export type TensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

type ArrayType = { new (length: number): TensorData; new (buffer: ArrayBufferLike): TensorData; BYTES_PER_ELEMENT: number };

/** The typed array ONNX Runtime uses for each type (bool as bytes, FP16 as its bit patterns). */
const ARRAY_OF: Record<OrtType, ArrayType> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Bytes per element of a type. */
export function elementBytes(type: OrtType): number {
  return ARRAY_OF[type].BYTES_PER_ELEMENT;
}

/** Integer ranges a JSON number must fall in; 64-bit types are limited to what JSON numbers hold exactly. */
const INTEGER_RANGE: Partial<Record<OrtType, [number, number]>> = {
  uint8: [0, 0xff],
  uint16: [0, 0xffff],
  uint32: [0, 0xffffffff],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int8: [-0x80, 0x7f],
  int16: [-0x8000, 0x7fff],
  int32: [-0x80000000, 0x7fffffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** What a JSON element of a type must be, for error messages. */
function expectation(type: OrtType): string {
  if (type === 'bool') return 'booleans';
  const range = INTEGER_RANGE[type];
  if (!range) return 'numbers';
  if (type === 'int64' || type === 'uint64') return `integers within ±2^53 (larger ${DATATYPE_OF[type]} values must travel as binary data)`;
  return `integers ${range[0]}..${range[1]}`;
}

/**
 * Row-major JSON values (flat, or nested to any depth) as a typed array of `count` elements of
 * `type`. A string describes the first fault: a wrong element count or a value the type cannot hold.
 */
export function fromJson(type: OrtType, values: unknown, count: number): TensorData | string {
  if (!Array.isArray(values)) return 'data must be an array (flat or nested, row-major)';
  const out = new ARRAY_OF[type](count);
  const half = type === 'float16' ? new Float16Array(out.buffer) : null;
  const range = INTEGER_RANGE[type];
  const big = type === 'int64' || type === 'uint64';
  let n = 0;
  // Depth-first over nested arrays without recursion: a stack of [array, next index].
  const stack: [unknown[], number][] = [[values, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top[1] >= top[0].length) {
      stack.pop();
      continue;
    }
    const value = top[0][top[1]++];
    if (Array.isArray(value)) {
      stack.push([value, 0]);
      continue;
    }
    if (n >= count) return `data has more than the ${count} elements the shape holds`;
    if (type === 'bool') {
      if (typeof value !== 'boolean') return `data element ${n} is ${JSON.stringify(value)}: BOOL values must be booleans`;
      out[n++] = value ? 1 : 0;
      continue;
    }
    if (typeof value !== 'number' || (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1]))) {
      return `data element ${n} is ${JSON.stringify(value)}: ${DATATYPE_OF[type]} values must be ${expectation(type)}`;
    }
    if (half) half[n++] = value;
    else if (big) (out as BigInt64Array)[n++] = BigInt(value);
    else out[n++] = value;
  }
  if (n !== count) return `data has ${n} elements; the shape holds ${count}`;
  return out;
}

/** Little-endian tensor bytes (any alignment) as a typed array of `type` (copied). */
export function fromBytes(type: OrtType, bytes: Uint8Array): TensorData {
  // The protocol's binary data is little-endian; typed arrays use the host's order.
  if (os.endianness() !== 'LE') throw new Error('binary tensor data needs a little-endian host');
  // A copy into a fresh buffer: aligned for the typed array, and never a Buffer's shared pool.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new ARRAY_OF[type](copy.buffer);
}

/** A tensor's elements as JSON values (INT64/UINT64 beyond ±2^53 lose precision: ask for binary output). */
export function toJson(type: OrtType, data: TensorData): (number | boolean)[] {
  if (type === 'bool') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (type === 'float16') return Array.from(new Float16Array(data.buffer, data.byteOffset, data.length));
  if (type === 'int64' || type === 'uint64') return Array.from(data as BigInt64Array, Number);
  return Array.from(data as Float32Array);
}

/** A tensor's elements as little-endian bytes (a view, no copy). */
export function toBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
