import { Injectable } from '@nestjs/common';
import { type Prisma, PrismaService } from '@lumen/database';
import { type Collection, CollectionError, type CollectionEvent, type NewImage, type StoredImage } from './collection.js';

/** The channel a committed collection write is announced on (payload: the collection id). */
export const COLLECTION_EVENTS_CHANNEL = 'lumen_collection_events';

type Tx = Prisma.TransactionClient;

type EventRow = {
  seq: bigint;
  kind: 'add' | 'delete' | 'drop';
  image_id: string | null;
  id: string | null;
  sha256: string | null;
  code: Uint8Array | null;
  external_id: string | null;
  metadata: unknown;
};

const IMAGE_FIELDS = { id: true, sha256: true, code: true, externalId: true, metadata: true } as const;

function toImage(row: { id: string; sha256: string; code: Uint8Array; externalId: string | null; metadata: unknown }): StoredImage {
  return { id: row.id, sha256: row.sha256, code: row.code, externalId: row.externalId, metadata: row.metadata as Record<string, unknown> };
}

/** Every SQL statement of image collections (Prisma): the service above it holds the logic. */
@Injectable()
export class CollectionsRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(id: string): Promise<Collection | null> {
    return this.prisma.collection.findUnique({ where: { id } });
  }

  create(collection: Omit<Collection, 'createdAt'>): Promise<Collection> {
    return this.prisma.collection.create({ data: collection });
  }

  /** Collections (of one owner, or all), newest first, with their image counts. */
  async list(owner: string | undefined): Promise<{ collection: Collection; count: number }[]> {
    const rows = await this.prisma.collection.findMany({
      where: owner === undefined ? {} : { owner },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      include: { _count: { select: { images: true } } },
    });
    return rows.map(({ _count, ...collection }) => ({ collection, count: _count.images }));
  }

  /**
   * Runs one write of a collection in a transaction that first takes the collection row's lock,
   * so that writers of one collection (on any replica) run one after the other: the feed's and
   * the images' sequence numbers are then handed out in commit order. `work` gets null when the
   * collection does not exist. The NOTIFY is delivered when the transaction commits.
   */
  private write<T>(collectionId: string, work: (tx: Tx, exists: boolean) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM collection WHERE id = ${collectionId}::uuid FOR NO KEY UPDATE`;
      const result = await work(tx, locked.length > 0);
      await tx.$executeRaw`SELECT pg_notify(${COLLECTION_EVENTS_CHANNEL}, ${collectionId})`;
      return result;
      // Writers of one collection queue for its lock: leave room beyond Prisma's 5 s default.
    }, { maxWait: 10_000, timeout: 30_000 });
  }

  /** Deletes the collection and (by cascade) its images, recording a `drop` in the feed. */
  async delete(id: string): Promise<void> {
    await this.write(id, async (tx, exists) => {
      if (!exists) return;
      await tx.collectionEvent.create({ data: { collectionId: id, kind: 'drop' } });
      await tx.collection.deleteMany({ where: { id } });
    });
  }

  /** True when the image existed in the collection (its `delete` is then in the feed). */
  async deleteImage(collectionId: string, imageId: string): Promise<boolean> {
    return this.write(collectionId, async (tx) => {
      const { count } = await tx.image.deleteMany({ where: { id: imageId, collectionId } });
      if (count > 0) await tx.collectionEvent.create({ data: { collectionId, kind: 'delete', imageId } });
      return count > 0;
    });
  }

  /** The collection's latest write in the feed (0 when none). */
  async lastEventSeq(collectionId: string): Promise<bigint> {
    const last = await this.prisma.collectionEvent.aggregate({ where: { collectionId }, _max: { seq: true } });
    return last._max.seq ?? 0n;
  }

  /**
   * Up to `take` writes of the collection after `after`, oldest first; an `add` carries the
   * images of that write still stored, in insertion order.
   */
  async eventsAfter(collectionId: string, after: bigint, take: number): Promise<CollectionEvent[]> {
    const rows = await this.prisma.$queryRaw<EventRow[]>`
      SELECT e.seq, e.kind, e.image_id::text AS image_id, i.id::text AS id, i.sha256, i.code, i.external_id, i.metadata
      FROM (SELECT * FROM collection_event WHERE collection_id = ${collectionId}::uuid AND seq > ${after} ORDER BY seq LIMIT ${take}) e
      LEFT JOIN image i ON e.kind = 'add' AND i.collection_id = e.collection_id AND i.seq BETWEEN e.first_image_seq AND e.last_image_seq
      ORDER BY e.seq, i.seq`;
    const events: CollectionEvent[] = [];
    for (const row of rows) {
      const last = events[events.length - 1];
      if (row.kind === 'add') {
        const event = last?.seq === row.seq && last.kind === 'add' ? last : { seq: row.seq, collectionId, kind: 'add' as const, images: [] };
        if (event !== last) events.push(event);
        if (row.id) event.images.push(toImage({ id: row.id, sha256: row.sha256!, code: new Uint8Array(row.code!), externalId: row.external_id, metadata: row.metadata }));
      } else if (row.kind === 'delete') {
        events.push({ seq: row.seq, collectionId, kind: 'delete', imageId: row.image_id! });
      } else {
        events.push({ seq: row.seq, collectionId, kind: 'drop' });
      }
    }
    return events;
  }

  /** Which of these collections have writes after the given sequence numbers (one query, for the poll). */
  async collectionsWithEventsAfter(cursors: { collectionId: string; after: bigint }[]): Promise<string[]> {
    if (!cursors.length) return [];
    const json = JSON.stringify(cursors.map((c) => ({ id: c.collectionId, after: c.after.toString() })));
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT c.id::text AS id FROM jsonb_to_recordset(${json}::jsonb) AS c(id uuid, after bigint)
      WHERE EXISTS (SELECT 1 FROM collection_event e WHERE e.collection_id = c.id AND e.seq > c.after)`;
    return rows.map((r) => r.id);
  }

  countImages(collectionId: string): Promise<number> {
    return this.prisma.image.count({ where: { collectionId } });
  }

  /** Up to `take` images inserted after sequence number `after`, in insertion order. */
  async imagesAfter(collectionId: string, after: bigint, take: number): Promise<(StoredImage & { seq: bigint })[]> {
    const rows = await this.prisma.image.findMany({
      where: { collectionId, seq: { gt: after } },
      orderBy: { seq: 'asc' },
      take,
      select: { ...IMAGE_FIELDS, seq: true },
    });
    return rows.map((row) => ({ ...toImage(row), seq: row.seq }));
  }

  /**
   * Inserts the images whose SHA-256 the collection does not hold yet and returns them in
   * insertion order, recording the write as one `add` of their sequence range (nothing else of
   * this collection is written meanwhile: see `write`); a collection deleted meanwhile is a
   * CollectionError (404).
   */
  async insertNew(collectionId: string, images: NewImage[]): Promise<StoredImage[]> {
    try {
      const created = await this.write(collectionId, async (tx, exists) => {
        if (!exists) throw new CollectionError('collection.not-found', `No collection ${collectionId}`);
        const rows = await tx.image.createManyAndReturn({
          data: images.map((image) => ({ ...image, metadata: image.metadata as Prisma.InputJsonObject })),
          skipDuplicates: true,
          select: { ...IMAGE_FIELDS, seq: true },
        });
        rows.sort((a, b) => (a.seq < b.seq ? -1 : 1));
        if (rows.length) {
          await tx.collectionEvent.create({ data: { collectionId, kind: 'add', firstImageSeq: rows[0].seq, lastImageSeq: rows[rows.length - 1].seq } });
        }
        return rows;
      });
      return created.map(toImage);
    } catch (error) {
      if ((error as { code?: string }).code === 'P2003') throw new CollectionError('collection.not-found', `No collection ${collectionId}`);
      throw error;
    }
  }

  async findBySha256(collectionId: string, sha256: string[]): Promise<StoredImage[]> {
    if (!sha256.length) return [];
    const rows = await this.prisma.image.findMany({ where: { collectionId, sha256: { in: sha256 } }, select: IMAGE_FIELDS });
    return rows.map(toImage);
  }
}
