import { Tensor } from 'onnxruntime-node';
import { BATCH_MAX_ROWS, BatchedModel, type TensorMap, batchAxisOf, concatRows, sliceRows } from './batched-inference.js';

const spec = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape });

/** A "model" that sums each row of x and echoes the row index of y: enough to see rows travel. */
function rowModel(calls: number[][]): (feeds: TensorMap) => Promise<TensorMap> {
  return async ({ x, y }) => {
    const [rows, width] = x.dims;
    calls.push([rows, width]);
    const sums = new Float32Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) sums[r] += (x.data as Float32Array)[r * width + c];
    return { sum: new Tensor('float32', sums, [rows]), y: new Tensor('int64', (y.data as BigInt64Array).slice(), y.dims) };
  };
}

function request(rows: number, width: number, start: number): TensorMap {
  const x = Float32Array.from({ length: rows * width }, (_, i) => start + Math.floor(i / width));
  const y = BigInt64Array.from({ length: rows }, (_, i) => BigInt(start + i));
  return { x: new Tensor('float32', x, [rows, width]), y: new Tensor('int64', y, [rows]) };
}

describe('batchAxisOf', () => {
  it('names the axis every input and output starts with', () => {
    expect(batchAxisOf({ inputs: [spec('a', ['batch', 3]), spec('b', ['batch'])], outputs: [spec('c', ['batch', 48])] })).toBe('batch');
  });
  it('is null for fixed or mixed leading axes', () => {
    expect(batchAxisOf({ inputs: [spec('image', [1, 1, 'z', 'y', 'x'])], outputs: [spec('logits', [1, 9, 'z', 'y', 'x'])] })).toBeNull();
    expect(batchAxisOf({ inputs: [spec('a', ['batch', 3])], outputs: [spec('c', ['n', 48])] })).toBeNull();
  });
});

describe('concatRows / sliceRows', () => {
  it('stack along axis 0 and take rows back out, for float32 and int64', () => {
    const a = new Tensor('float32', new Float32Array([1, 2, 3, 4]), [2, 2]);
    const b = new Tensor('float32', new Float32Array([5, 6]), [1, 2]);
    const stacked = concatRows([a, b]);
    expect(stacked.dims).toEqual([3, 2]);
    expect([...(stacked.data as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...(sliceRows(stacked, 2, 1).data as Float32Array)]).toEqual([5, 6]);
    expect(sliceRows(stacked, 0, 2).dims).toEqual([2, 2]);
    const ints = concatRows([new Tensor('int64', new BigInt64Array([7n]), [1]), new Tensor('int64', new BigInt64Array([8n, 9n]), [2])]);
    expect(ints.data).toBeInstanceOf(BigInt64Array);
    expect([...(sliceRows(ints, 1, 2).data as BigInt64Array)]).toEqual([8n, 9n]);
  });
});

describe('BatchedModel', () => {
  it('stacks concurrent requests of one shape into one run and gives each its own rows', async () => {
    const calls: number[][] = [];
    const model = new BatchedModel(rowModel(calls), 5);
    const answers = await Promise.all([request(2, 3, 0), request(1, 3, 10), request(3, 3, 20)].map((feeds) => model.infer(feeds)));
    expect(calls).toEqual([[6, 3]]);
    expect([...(answers[0].sum.data as Float32Array)]).toEqual([0, 3]);
    expect([...(answers[1].sum.data as Float32Array)]).toEqual([30]);
    expect([...(answers[2].y.data as BigInt64Array)]).toEqual([20n, 21n, 22n]);
    expect(answers[2].sum.dims).toEqual([3]);
  });

  it('runs requests of different trailing shapes separately, in the same window', async () => {
    const calls: number[][] = [];
    const model = new BatchedModel(rowModel(calls), 5);
    const [wide, narrow] = await Promise.all([model.infer(request(1, 4, 1)), model.infer(request(2, 2, 5))]);
    expect(calls.sort()).toEqual([[1, 4], [2, 2]]);
    expect([...(wide.sum.data as Float32Array)]).toEqual([4]);
    expect([...(narrow.sum.data as Float32Array)]).toEqual([10, 12]);
  });

  it(`keeps a run to ${BATCH_MAX_ROWS} rows without splitting a request`, async () => {
    const calls: number[][] = [];
    const model = new BatchedModel(rowModel(calls), 5);
    await Promise.all([model.infer(request(BATCH_MAX_ROWS - 1, 1, 0)), model.infer(request(2, 1, 0)), model.infer(request(1, 1, 0))]);
    expect(calls.map(([rows]) => rows).sort((a, b) => a - b)).toEqual([3, BATCH_MAX_ROWS - 1]);
  });

  it('fails only the requests of a failed run', async () => {
    const model = new BatchedModel(async (feeds) => {
      if (feeds.x.dims[1] === 2) throw new Error('boom');
      return rowModel([])(feeds);
    }, 5);
    const [bad, good] = await Promise.allSettled([model.infer(request(1, 2, 0)), model.infer(request(1, 3, 0))]);
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('boom') });
    expect(good.status).toBe('fulfilled');
  });

  it('runs the requests of a failed stacked run again one by one, so a bad request fails alone', async () => {
    const calls: number[][] = [];
    const model = new BatchedModel(async (feeds) => {
      // The "model" rejects any row whose y is negative, as a model rejects an index out of range.
      if ([...(feeds.y.data as BigInt64Array)].some((v) => v < 0n)) throw new Error('index out of range');
      return rowModel(calls)(feeds);
    }, 5);
    const [good, bad, alsoGood] = await Promise.allSettled([model.infer(request(1, 2, 1)), model.infer(request(1, 2, -5)), model.infer(request(2, 2, 3))]);
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('index out of range') });
    expect(good).toMatchObject({ status: 'fulfilled' });
    expect(alsoGood).toMatchObject({ status: 'fulfilled' });
    expect([...((alsoGood as PromiseFulfilledResult<TensorMap>).value.y.data as BigInt64Array)]).toEqual([3n, 4n]);
    expect(calls.map(([rows]) => rows).sort()).toEqual([1, 2]);
  });

  it('refuses outputs that are not batched along axis 0', async () => {
    const model = new BatchedModel(async (feeds) => ({ sum: new Tensor('float32', new Float32Array(feeds.x.dims[0] + 1), [feeds.x.dims[0] + 1]) }), 5);
    await expect(Promise.all([model.infer(request(1, 1, 0)), model.infer(request(1, 1, 0))])).rejects.toThrow('not batched along axis 0');
  });
});

describe('BatchedModel maxRows', () => {
  it('keeps a run to the smallest maxRows of the requests in it', async () => {
    const calls: number[][] = [];
    const model = new BatchedModel(rowModel(calls), 5);
    await Promise.all([
      ...Array.from({ length: 5 }, () => model.infer(request(1, 2, 0), { maxRows: 2 })),
      model.infer(request(3, 2, 0)),
    ]);
    expect(calls.map(([rows]) => rows)).toEqual([2, 2, 1, 3]);
  });
});
