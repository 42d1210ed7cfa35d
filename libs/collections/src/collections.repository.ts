import { Injectable } from '@nestjs/common';
import { type Prisma, PrismaService } from '@lumen/database';
import { type Collection, CollectionError, type NewImage, type StoredImage } from './collection.js';

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

  /** Deletes the collection and (by cascade) its images. */
  async delete(id: string): Promise<void> {
    await this.prisma.collection.deleteMany({ where: { id } });
  }

  /** True when the image existed in the collection. */
  async deleteImage(collectionId: string, imageId: string): Promise<boolean> {
    const { count } = await this.prisma.image.deleteMany({ where: { id: imageId, collectionId } });
    return count > 0;
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
   * insertion order; a collection deleted meanwhile is a CollectionError (404).
   */
  async insertNew(collectionId: string, images: NewImage[]): Promise<StoredImage[]> {
    try {
      const created = await this.prisma.image.createManyAndReturn({
        data: images.map((image) => ({ ...image, metadata: image.metadata as Prisma.InputJsonObject })),
        skipDuplicates: true,
        select: { ...IMAGE_FIELDS, seq: true },
      });
      return created.sort((a, b) => (a.seq < b.seq ? -1 : 1)).map(toImage);
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
