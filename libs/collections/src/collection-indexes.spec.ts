import fc from 'fast-check';
import { register } from 'prom-client';
import { fakeCollectionsDatabase } from '../testing/fake-collections-database.js';
import type { Collection, NewImage, StoredImage } from './collection.js';
import { CollectionIndexes } from './collection-indexes.js';

const COLLECTION: Collection = { id: 'c1', name: 'photos', bits: 16, modelName: 'hash-16', modelVersion: '1', owner: 'app', createdAt: new Date(0) };

const newImage = (id: string, hex: string): NewImage => ({ id, collectionId: COLLECTION.id, code: Uint8Array.from(Buffer.from(hex, 'hex')), externalId: null, metadata: {}, sha256: `sha-${id}` });
const stored = (id: string, hex: string): StoredImage => ({ id, sha256: `sha-${id}`, code: Uint8Array.from(Buffer.from(hex, 'hex')), externalId: null, metadata: {} });

/** Replicas over one fake database: each has its own repository and its own indexes. */
function cluster(initial: StoredImage[] = []) {
  const database = fakeCollectionsDatabase([COLLECTION], initial);
  const replica = () => {
    const repository = database.repository();
    const indexes = new CollectionIndexes(database.asRepository(repository));
    return {
      repository,
      indexes,
      add: (...images: NewImage[]) => indexes.write(COLLECTION, () => repository.insertNew(COLLECTION.id, images)),
      remove: (id: string) => indexes.write(COLLECTION, () => repository.deleteImage(COLLECTION.id, id)),
      /** Every image ranked from code 0000 (all of them, ties in index order). */
      ranking: async () => (await indexes.get(COLLECTION)).search(new Uint8Array(2), { k: 1000 }).map((h) => `${h.image.id}:${h.distance}`),
    };
  };
  return { database, replica };
}

/** Replica a (not loaded) and replica b, whose index is loaded when `bLoaded`. */
async function twoReplicas(options: { initial?: StoredImage[]; bLoaded?: boolean } = {}) {
  const { replica } = cluster(options.initial);
  const a = replica();
  const b = replica();
  if (options.bLoaded ?? true) await b.ranking();
  return { a, b, replica };
}

describe('CollectionIndexes: the write feed that keeps replicas coherent', () => {
  it("applies another replica's writes on sync, in the database's order: the same ranking, ties included, as a fresh load", async () => {
    const { a, b, replica } = await twoReplicas({ initial: [stored('old', '0001')], bLoaded: false });
    expect(await b.ranking()).toEqual(['old:1']); // b loads before the writes
    await a.add(newImage('x', '0001'), newImage('y', '0003'));
    await b.add(newImage('z', '0001'));
    await a.remove('old');
    await a.add(newImage('w', '0002'));
    // b has applied a's first write (before its own) but not what a did after.
    expect(await b.ranking()).toEqual(['old:1', 'x:1', 'z:1', 'y:2']);
    await b.indexes.sync(COLLECTION.id);
    const expected = ['x:1', 'z:1', 'w:1', 'y:2'];
    expect(await b.ranking()).toEqual(expected);
    expect(await a.ranking()).toEqual(expected);
    expect(await replica().ranking()).toEqual(expected); // a restarted replica: built from the tables
    expect(b.indexes.appliedSeq(COLLECTION.id)).toBe(4n);
  });

  it('makes a write visible to the writing replica before the write returns, without waiting for a notification', async () => {
    const { replica } = cluster();
    const a = replica();
    await a.ranking();
    await a.add(newImage('x', 'ffff'));
    expect(await a.ranking()).toEqual(['x:16']);
  });

  it('catches up in the poll when a notification was lost, and only queries the collections that are behind', async () => {
    const { a, b } = await twoReplicas();
    expect(await b.indexes.syncAll()).toBe(0);
    expect(b.repository.eventsAfter).toHaveBeenCalledTimes(1); // the load's own catch-up
    await a.add(newImage('x', '0001'));
    expect(await b.ranking()).toEqual([]);
    expect(await b.indexes.syncAll()).toBe(1);
    expect(await b.ranking()).toEqual(['x:1']);
    expect(b.repository.eventsAfter).toHaveBeenCalledTimes(2);
  });

  it('ignores notifications for collections it has not loaded (they are read whole on first use)', async () => {
    const { a, b } = await twoReplicas({ bLoaded: false });
    await a.add(newImage('x', '0001'));
    await b.indexes.sync(COLLECTION.id);
    expect(b.repository.eventsAfter).not.toHaveBeenCalled();
    expect(await b.ranking()).toEqual(['x:1']);
  });

  it('coalesces a burst of notifications into one catch-up behind the running one', async () => {
    const { a, b } = await twoReplicas();
    for (let i = 0; i < 10; i++) await a.add(newImage(`i${i}`, '0001'));
    b.repository.eventsAfter.mockClear();
    await Promise.all(Array.from({ length: 10 }, () => b.indexes.sync(COLLECTION.id)));
    expect(b.repository.eventsAfter).toHaveBeenCalledTimes(1);
    expect((await b.ranking()).length).toBe(10);
  });

  it('reads a long feed page by page', async () => {
    const { a, b, replica } = await twoReplicas();
    for (let i = 0; i < 1100; i++) await a.add(newImage(`i${i}`, i % 2 ? '0001' : '0000'));
    await b.indexes.sync(COLLECTION.id);
    expect(b.repository.eventsAfter).toHaveBeenCalledTimes(1 + 3); // the load's, then 500 + 500 + 100
    expect(await b.ranking()).toEqual(await replica().ranking());
  });

  it('forgets a collection another replica deleted: the drop listeners hear it, and it is not loaded again', async () => {
    const { a, b } = await twoReplicas({ initial: [stored('old', '0001')] });
    const dropped: string[] = [];
    b.indexes.onDrop((id) => dropped.push(id));
    await a.indexes.deleteCollection(COLLECTION.id, () => a.repository.delete(COLLECTION.id));
    expect(await b.indexes.syncAll()).toBe(1);
    expect(dropped).toEqual([COLLECTION.id]);
    expect(b.indexes.appliedSeq(COLLECTION.id)).toBeUndefined();
    await expect(b.indexes.get(COLLECTION)).rejects.toMatchObject({ code: 'collection.not-found' });
  });

  it('skips an add whose images were deleted since, and the delete that follows it', async () => {
    const { a, b } = await twoReplicas();
    await a.add(newImage('x', '0001'), newImage('y', '0002'));
    await a.remove('x');
    await b.indexes.sync(COLLECTION.id);
    expect(await b.ranking()).toEqual(['y:1']);
  });

  it('loads without applying twice what was written while its pages were read', async () => {
    const { a, b } = await twoReplicas({ initial: [stored('old', '0001')], bLoaded: false });
    const read = b.repository.imagesAfter.getMockImplementation()!;
    // Another replica writes after b read the feed's position but before b reads the images.
    b.repository.imagesAfter.mockImplementationOnce(async (...args) => {
      await a.add(newImage('x', '0001'));
      await a.remove('old');
      return read(...args);
    });
    expect(await b.ranking()).toEqual(['x:1']);
    expect(b.indexes.appliedSeq(COLLECTION.id)).toBe(2n);
  });

  it('reports the memory and codes of its indexes in /metrics', async () => {
    const { replica } = cluster([stored('a', '0001'), stored('b', '0002')]);
    const a = replica();
    await a.ranking();
    const metrics = await register.metrics();
    expect(metrics).toMatch(/^lumen_collection_indexes 1$/m);
    expect(metrics).toMatch(/^lumen_collection_index_codes 2$/m);
    const bytes = Number(/^lumen_collection_index_bytes (\d+)$/m.exec(metrics)![1]);
    expect(bytes).toBe((await a.indexes.get(COLLECTION)).reservedBytes);
    expect(bytes).toBeGreaterThanOrEqual(1024 * 8 + 1024); // room for 1024 codes of two words, and their flags
  });

  it('any interleaving of writes on three replicas, synced in any order, ranks exactly as a fresh load (property)', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), replica: fc.nat(2), codes: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('remove' as const), replica: fc.nat(2), pick: fc.nat() }),
      fc.record({ kind: fc.constant('sync' as const), replica: fc.nat(2) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const { replica, database } = cluster();
        const replicas = [replica(), replica(), replica()];
        let next = 0;
        for (const o of ops) {
          const r = replicas[o.replica];
          if (o.kind === 'add') await r.add(...o.codes.map((c) => newImage(`i${next++}`, c.toString(16).padStart(4, '0'))));
          else if (o.kind === 'remove' && database.state.rows.length) await r.remove(database.state.rows[o.pick % database.state.rows.length].id);
          else await r.indexes.syncAll();
        }
        const fresh = await replica().ranking();
        for (const r of replicas) {
          await r.indexes.syncAll();
          expect(await r.ranking()).toEqual(fresh);
        }
      }),
      { numRuns: 200 },
    );
  });
});
