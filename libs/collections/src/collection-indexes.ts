import { Injectable, Logger } from '@nestjs/common';
import { HammingIndex } from '@lumen/hashing';
import { CollectionsRepository } from './collections.repository.js';

/** Rows read per query while an index is rebuilt from the database. */
const LOAD_PAGE = 20_000;

/**
 * The in-memory Hamming index of each collection, built from the database on first use (so a
 * restart answers exactly as before: rows are read in insertion order), plus one write lock per
 * collection so that the database and the index see inserts and deletes in the same order.
 */
@Injectable()
export class CollectionIndexes {
  private readonly logger = new Logger('CollectionIndexes');
  private readonly indexes = new Map<string, Promise<HammingIndex>>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly repository: CollectionsRepository) {}

  get(collection: { id: string; bits: number }): Promise<HammingIndex> {
    let index = this.indexes.get(collection.id);
    if (!index) {
      index = this.load(collection);
      this.indexes.set(collection.id, index);
      // A failed load (database down) must not stick: the next request tries again.
      index.catch(() => this.indexes.delete(collection.id));
    }
    return index;
  }

  drop(id: string): void {
    this.indexes.delete(id);
  }

  /** Runs `work` after every earlier write of this collection has finished. */
  async withWriteLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  private async load(collection: { id: string; bits: number }): Promise<HammingIndex> {
    const started = Date.now();
    const count = await this.repository.countImages(collection.id);
    const index = new HammingIndex(collection.bits, Math.max(1024, count));
    let after = -1n;
    for (;;) {
      const rows = await this.repository.imagesAfter(collection.id, after, LOAD_PAGE);
      for (const row of rows) index.add({ id: row.id, externalId: row.externalId, metadata: row.metadata }, row.code);
      if (rows.length < LOAD_PAGE) break;
      after = rows[rows.length - 1].seq;
    }
    if (index.size > 10_000) this.logger.log(`collection ${collection.id}: ${index.size} images indexed in ${Date.now() - started} ms`);
    return index;
  }
}
