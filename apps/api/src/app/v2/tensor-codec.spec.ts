import { elementBytes, fromBytes, fromJson, toBytes, toJson } from './tensor-codec.js';

describe('fromJson', () => {
  it('takes flat and nested row-major data alike', () => {
    expect(fromJson('float32', [1, 2.5, 3, 4], 4)).toEqual(new Float32Array([1, 2.5, 3, 4]));
    expect(fromJson('float32', [[1, 2.5], [3, 4]], 4)).toEqual(new Float32Array([1, 2.5, 3, 4]));
    expect(fromJson('int64', [[[7]], [[-9007199254740991]]], 2)).toEqual(new BigInt64Array([7n, -9007199254740991n]));
    expect(fromJson('bool', [true, false], 2)).toEqual(new Uint8Array([1, 0]));
  });

  it('rounds FP16 to its bit patterns', () => {
    const half = fromJson('float16', [1, -2, 0.5], 3) as Uint16Array;
    expect([...half]).toEqual([0x3c00, 0xc000, 0x3800]);
    expect(toJson('float16', half)).toEqual([1, -2, 0.5]);
  });

  it('names the first element a datatype cannot hold, and wrong counts', () => {
    expect(fromJson('float32', [1, '2'], 2)).toBe('data element 1 is "2": FP32 values must be numbers');
    expect(fromJson('int64', [1, 2.5], 2)).toMatch(/^data element 1 is 2.5: INT64 values must be integers within ±2\^53/);
    expect(fromJson('uint8', [255, 256], 2)).toBe('data element 1 is 256: UINT8 values must be integers 0..255');
    expect(fromJson('int32', [2 ** 31], 1)).toBe('data element 0 is 2147483648: INT32 values must be integers -2147483648..2147483647');
    expect(fromJson('bool', [1], 1)).toBe('data element 0 is 1: BOOL values must be booleans');
    expect(fromJson('float32', [null], 1)).toBe('data element 0 is null: FP32 values must be numbers');
    expect(fromJson('float32', [1, 2, 3], 2)).toBe('data has more than the 2 elements the shape holds');
    expect(fromJson('float32', [[1], [2]], 3)).toBe('data has 2 elements; the shape holds 3');
    expect(fromJson('float32', 'AAAA', 1)).toBe('data must be an array (flat or nested, row-major)');
  });
});

describe('fromBytes / toBytes', () => {
  it('read little-endian bytes at any offset and give them back unchanged', () => {
    const values = new Float32Array([1.5, -2, 3.25]);
    const body = new Uint8Array(1 + values.byteLength);
    body.set(new Uint8Array(values.buffer), 1); // an odd offset, as after a JSON header
    const data = fromBytes('float32', body.subarray(1));
    expect(data).toEqual(values);
    expect(toBytes(data)).toEqual(new Uint8Array(values.buffer));
    expect(fromBytes('int64', toBytes(new BigInt64Array([-3n, 2n ** 62n])))).toEqual(new BigInt64Array([-3n, 2n ** 62n]));
    // A Buffer from a request body is a view on a shared pool: only its own bytes are read.
    const pooled = Buffer.concat([Buffer.from('{}'), Buffer.from(values.buffer)]);
    expect(fromBytes('float32', pooled.subarray(2))).toEqual(values);
    expect(elementBytes('float16')).toBe(2);
    expect(elementBytes('int64')).toBe(8);
  });
});

describe('toJson', () => {
  it('gives numbers (64-bit integers as numbers) and booleans', () => {
    expect(toJson('float32', new Float32Array([0.1]))).toEqual([Math.fround(0.1)]);
    expect(toJson('int64', new BigInt64Array([5n, -1n]))).toEqual([5, -1]);
    expect(toJson('bool', new Uint8Array([0, 1]))).toEqual([false, true]);
  });
});
