import { jest } from '@jest/globals';
import type { Collection, CollectionEvent, NewImage, StoredImage } from '../src/collection.js';
import type { CollectionsRepository } from '../src/collections.repository.js';

type Row = StoredImage & { collectionId: string; seq: bigint };
type EventRow = { seq: bigint; collectionId: string; kind: 'add' | 'delete' | 'drop'; imageId?: string; first?: bigint; last?: bigint };

/**
 * An in-memory stand-in for the tables of image collections, shared by any number of
 * repositories (one per simulated replica): images in insertion order with unique SHA-256 per
 * collection, and the write feed (`collection_event`) appended in the same step as each write,
 * as CollectionsRepository does in one transaction.
 */
export function fakeCollectionsDatabase(collections: Collection[], initial: StoredImage[] = []) {
  const state = {
    collections: new Map(collections.map((c) => [c.id, c])),
    rows: [] as Row[],
    events: [] as EventRow[],
    imageSeq: 0n,
    eventSeq: 0n,
  };
  for (const image of initial) state.rows.push({ ...image, collectionId: collections[0].id, seq: ++state.imageSeq });
  const event = (e: Omit<EventRow, 'seq'>) => state.events.push({ ...e, seq: ++state.eventSeq });
  const image = ({ collectionId: _c, seq: _s, ...stored }: Row): StoredImage => stored;
  const of = (collectionId: string) => state.rows.filter((r) => r.collectionId === collectionId);

  function repository() {
    return {
      find: jest.fn(async (id: string) => state.collections.get(id) ?? null),
      create: jest.fn(async (data: Omit<Collection, 'createdAt'>) => {
        const created = { ...data, createdAt: new Date(0) };
        state.collections.set(created.id, created);
        return created;
      }),
      list: jest.fn(),
      delete: jest.fn(async (id: string) => {
        if (!state.collections.delete(id)) return;
        state.rows = state.rows.filter((r) => r.collectionId !== id);
        event({ collectionId: id, kind: 'drop' });
      }),
      deleteImage: jest.fn(async (collectionId: string, imageId: string) => {
        const at = state.rows.findIndex((r) => r.id === imageId && r.collectionId === collectionId);
        if (at < 0) return false;
        state.rows.splice(at, 1);
        event({ collectionId, kind: 'delete', imageId });
        return true;
      }),
      countImages: jest.fn(async (collectionId: string) => of(collectionId).length),
      imagesAfter: jest.fn(async (collectionId: string, after: bigint, take: number) => of(collectionId).filter((r) => r.seq > after).slice(0, take).map((r) => ({ ...image(r), seq: r.seq }))),
      insertNew: jest.fn(async (collectionId: string, images: NewImage[]): Promise<StoredImage[]> => {
        const held = new Set(of(collectionId).map((r) => r.sha256));
        const fresh = images.filter((i) => !held.has(i.sha256)).map((i) => ({ ...i, seq: ++state.imageSeq }));
        state.rows.push(...fresh);
        if (fresh.length) event({ collectionId, kind: 'add', first: fresh[0].seq, last: fresh[fresh.length - 1].seq });
        return fresh.map(image);
      }),
      findBySha256: jest.fn(async (collectionId: string, shas: string[]) => of(collectionId).filter((r) => shas.includes(r.sha256)).map(image)),
      lastEventSeq: jest.fn(async (collectionId: string) => state.events.filter((e) => e.collectionId === collectionId).reduce((max, e) => (e.seq > max ? e.seq : max), 0n)),
      eventsAfter: jest.fn(async (collectionId: string, after: bigint, take: number): Promise<CollectionEvent[]> =>
        state.events
          .filter((e) => e.collectionId === collectionId && e.seq > after)
          .slice(0, take)
          .map((e): CollectionEvent => {
            if (e.kind === 'add') return { seq: e.seq, collectionId, kind: 'add', images: of(collectionId).filter((r) => r.seq >= e.first! && r.seq <= e.last!).map(image) };
            if (e.kind === 'delete') return { seq: e.seq, collectionId, kind: 'delete', imageId: e.imageId! };
            return { seq: e.seq, collectionId, kind: 'drop' };
          }),
      ),
      collectionsWithEventsAfter: jest.fn(async (cursors: { collectionId: string; after: bigint }[]) =>
        cursors.filter((c) => state.events.some((e) => e.collectionId === c.collectionId && e.seq > c.after)).map((c) => c.collectionId),
      ),
    };
  }
  return { state, repository, asRepository: (r: ReturnType<typeof repository>) => r as unknown as CollectionsRepository };
}

export type FakeCollectionsRepository = ReturnType<ReturnType<typeof fakeCollectionsDatabase>['repository']>;
