import { Injectable, Logger } from '@nestjs/common';
import { Gauge, register } from 'prom-client';
import { HammingIndex } from '@lumen/hashing';
import { type Collection, CollectionError, type CollectionEvent } from './collection.js';
import { CollectionsRepository } from './collections.repository.js';

/** Rows read per query while an index is rebuilt from the database. */
const LOAD_PAGE = 20_000;

/** Feed events read per query while an index catches up. */
const FEED_PAGE = 500;

type IndexedCollection = Pick<Collection, 'id' | 'bits'>;

/** A loaded index and the last write of the feed it reflects. */
type Entry = { collectionId: string; index: HammingIndex; applied: bigint; dropped: boolean };

/**
 * The in-memory Hamming index of each collection, built from the database on first use and kept
 * in step with every replica's writes through the collection feed (table `collection_event`):
 * each index remembers the last event it applied and applies the later ones in order, when this
 * process writes (before the write is acknowledged), when another replica's NOTIFY arrives
 * (CollectionFeed) and when the poll finds it behind. A write of any replica therefore reaches
 * every index in the order the database committed it, and an index built from scratch (a
 * restart) holds exactly what one kept up to date does: the images in insertion order, which is
 * the tie order of search. One lock per collection serialises this process's writes and
 * catch-ups; the database's row lock serialises the replicas' writes (CollectionsRepository).
 */
@Injectable()
export class CollectionIndexes {
  private readonly logger = new Logger('CollectionIndexes');
  private readonly entries = new Map<string, Promise<Entry>>();
  /** Entries whose load has read the images: the feed keeps these up to date. */
  private readonly loaded = new Map<string, Entry>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly dropListeners: ((collectionId: string) => void)[] = [];
  private readonly queuedSyncs = new Map<string, Promise<void>>();

  constructor(private readonly repository: CollectionsRepository) {
    const loaded = this.loaded;
    const gauge = (name: string, help: string, value: () => number) => {
      register.removeSingleMetric(name);
      new Gauge({ name, help, collect() { this.set(value()); } });
    };
    gauge('lumen_collection_indexes', 'Collection indexes loaded in this process', () => loaded.size);
    gauge('lumen_collection_index_codes', 'Live codes in the collection indexes of this process', () => sum(loaded, (e) => e.index.size));
    gauge('lumen_collection_index_bytes', 'Bytes reserved for codes and live flags by the collection indexes of this process (ids and metadata on the heap come on top)', () => sum(loaded, (e) => e.index.reservedBytes));
  }

  async get(collection: IndexedCollection): Promise<HammingIndex> {
    return (await this.entry(collection)).index;
  }

  /** Called with the id of each collection deleted (by any replica) once this process has applied it. */
  onDrop(listener: (collectionId: string) => void): void {
    this.dropListeners.push(listener);
  }

  /**
   * Runs a write of the collection whose transaction appends to the feed, then applies the feed
   * up to it (and any other replica's writes before it), so this process answers with the write
   * as soon as it is acknowledged.
   */
  async write<T>(collection: IndexedCollection, work: () => Promise<T>): Promise<T> {
    await this.entry(collection); // loaded first, so that the catch-up below sees the write
    return this.withWriteLock(collection.id, async () => {
      const result = await work();
      await this.catchUp(collection.id);
      return result;
    });
  }

  /** Deletes the collection (`work` records its `drop`) and forgets its index here at once. */
  async deleteCollection(collectionId: string, work: () => Promise<void>): Promise<void> {
    await this.withWriteLock(collectionId, work);
    this.forget(collectionId);
  }

  /** Applies the collection's writes after the last applied here (a notification said there are some). */
  sync(collectionId: string): Promise<void> {
    if (!this.loaded.has(collectionId)) return Promise.resolve(); // not loaded here: it is read whole on first use
    // A burst of notifications needs one catch-up queued behind the running one, not one each.
    let queued = this.queuedSyncs.get(collectionId);
    if (!queued) {
      queued = this.withWriteLock(collectionId, () => {
        this.queuedSyncs.delete(collectionId);
        return this.catchUp(collectionId);
      });
      this.queuedSyncs.set(collectionId, queued);
    }
    return queued;
  }

  /** Brings every loaded index that is behind up to date (the poll: a lost notification, a reconnect); returns how many were behind. */
  async syncAll(): Promise<number> {
    const cursors = [...this.loaded.values()].map((entry) => ({ collectionId: entry.collectionId, after: entry.applied }));
    const behind = await this.repository.collectionsWithEventsAfter(cursors);
    await Promise.all(behind.map((id) => this.sync(id)));
    return behind.length;
  }

  /** The last feed event the collection's loaded index reflects (undefined when not loaded). */
  appliedSeq(collectionId: string): bigint | undefined {
    return this.loaded.get(collectionId)?.applied;
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

  private entry(collection: IndexedCollection): Promise<Entry> {
    let entry = this.entries.get(collection.id);
    if (!entry) {
      entry = this.load(collection);
      this.entries.set(collection.id, entry);
      // A failed load (database down, collection gone) must not stick: the next request tries again.
      entry.catch(() => {
        if (this.entries.get(collection.id) === entry) this.entries.delete(collection.id);
      });
    }
    return entry;
  }

  private forget(collectionId: string): void {
    const entry = this.loaded.get(collectionId);
    if (entry) entry.dropped = true;
    this.entries.delete(collectionId);
    this.loaded.delete(collectionId);
    for (const listener of this.dropListeners) listener(collectionId);
  }

  private async catchUp(collectionId: string): Promise<void> {
    const entry = this.loaded.get(collectionId);
    if (!entry) return;
    for (;;) {
      const events = await this.repository.eventsAfter(collectionId, entry.applied, FEED_PAGE);
      for (const event of events) {
        this.apply(entry, event);
        if (entry.dropped) return;
      }
      if (events.length < FEED_PAGE) return;
    }
  }

  /**
   * One write of the feed. Applying is idempotent, for the writes that a load has already read
   * from the tables: an image already indexed is not added again (it is in its insertion place),
   * one already gone is not removed; an `add` whose images were deleted since carries only those
   * still stored, and their later `delete`s change nothing.
   */
  private apply(entry: Entry, event: CollectionEvent): void {
    if (event.seq <= entry.applied) return;
    entry.applied = event.seq;
    if (event.kind === 'add') {
      for (const image of event.images) {
        if (!entry.index.has(image.id)) entry.index.add({ id: image.id, externalId: image.externalId, metadata: image.metadata }, image.code);
      }
    } else if (event.kind === 'delete') {
      entry.index.remove(event.imageId);
    } else {
      this.forget(entry.collectionId);
    }
  }

  /**
   * Reads the feed's position, then the images (in insertion order), then applies the writes
   * after that position: whatever was committed while the pages were read is either in them
   * already (and skipped) or applied after them, in order.
   */
  private async load(collection: IndexedCollection): Promise<Entry> {
    const started = Date.now();
    if (!(await this.repository.find(collection.id))) throw new CollectionError('collection.not-found', `No collection ${collection.id}`);
    const applied = await this.repository.lastEventSeq(collection.id);
    const count = await this.repository.countImages(collection.id);
    const index = new HammingIndex(collection.bits, Math.max(1024, count));
    let after = -1n;
    for (;;) {
      const rows = await this.repository.imagesAfter(collection.id, after, LOAD_PAGE);
      for (const row of rows) index.add({ id: row.id, externalId: row.externalId, metadata: row.metadata }, row.code);
      if (rows.length < LOAD_PAGE) break;
      after = rows[rows.length - 1].seq;
    }
    const entry: Entry = { collectionId: collection.id, index, applied, dropped: false };
    this.loaded.set(collection.id, entry);
    await this.withWriteLock(collection.id, () => this.catchUp(collection.id));
    if (entry.dropped) throw new CollectionError('collection.not-found', `No collection ${collection.id}`);
    if (index.size > 10_000) this.logger.log(`collection ${collection.id}: ${index.size} images indexed in ${Date.now() - started} ms`);
    return entry;
  }
}

function sum(entries: Map<string, Entry>, value: (entry: Entry) => number): number {
  let total = 0;
  for (const entry of entries.values()) total += value(entry);
  return total;
}
