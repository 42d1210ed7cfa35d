import { MicroBatcher } from './micro-batcher.js';

describe('MicroBatcher', () => {
  it('groups concurrent submissions into one call and returns results in order', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>({ maxBatch: 8, maxWaitMs: 5, run: async (items) => (calls.push(items), items.map((x) => x * 2)) });
    const results = await Promise.all([1, 2, 3].map((x) => batcher.submit(x)));
    expect(results).toEqual([2, 4, 6]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('splits at maxBatch without waiting', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>({ maxBatch: 2, maxWaitMs: 10_000, run: async (items) => (calls.push(items), items) });
    const results = await Promise.all([1, 2, 3, 4].map((x) => batcher.submit(x)));
    expect(results).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual([[1, 2], [3, 4]]);
  });

  it('rejects every member of a failed batch, and later batches still work', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 1,
      run: async (items) => {
        if (fail) throw new Error('boom');
        return items;
      },
    });
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow('boom');
    fail = false;
    await expect(batcher.submit(3)).resolves.toBe(3);
  });

  it('rejects a batch whose result count does not match', async () => {
    const batcher = new MicroBatcher<number, number>({ maxBatch: 4, maxWaitMs: 1, run: async () => [1] });
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow('2 items');
  });
});
