import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type HammingIndex, type HashingModel, ImageHasher, ImageRejectedError, type MetadataFilter, codeToHex, hexToCode } from '@lumen/hashing';
import { ModelUnavailableError } from '@lumen/inference';
import {
  type Collection,
  CollectionError,
  type ImageFile,
  ImageUploadOutcome,
  type ImageUploadResult,
  type NewImage,
  type SearchOptions,
  type SearchResult,
  type StoredImage,
} from './collection.js';
import { CollectionIndexes } from './collection-indexes.js';
import { CollectionsRepository } from './collections.repository.js';

/** Images decoded at the same time within one request (sharp uses its own thread pool). */
const DECODE_CONCURRENCY = 8;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Image collections: creation with a fixed model, ingestion with per-file outcomes and SHA-256
 * deduplication, exact Hamming search. SQL goes through CollectionsRepository; the in-memory
 * index, the per-collection write lock and the feed that keeps replicas coherent through
 * CollectionIndexes.
 */
@Injectable()
export class CollectionsService {
  /** Collections never change after creation, so they are cached until deleted (a search by code then needs no query). */
  private readonly cache = new Map<string, Collection>();

  constructor(
    private readonly repository: CollectionsRepository,
    private readonly indexes: CollectionIndexes,
    private readonly hasher: ImageHasher,
  ) {
    // A collection deleted through another replica is forgotten here once the feed says so.
    indexes.onDrop((id) => this.cache.delete(id));
  }

  async find(id: string): Promise<Collection | null> {
    let collection = this.cache.get(id) ?? null;
    if (!collection) {
      collection = await this.repository.find(id);
      if (collection) this.cache.set(id, collection);
    }
    return collection;
  }

  /** A new empty collection of the model for `bits` (the default model when undefined). */
  async create(owner: string, name: string, bits?: number): Promise<Collection> {
    const model = this.hasher.servedModel(bits);
    return this.repository.create({ id: randomUUID(), name, bits: model.bits, modelName: model.name, modelVersion: model.version, owner });
  }

  /** Collections of `owner` (all when undefined), newest first, with their image counts. */
  list(owner: string | undefined): Promise<{ collection: Collection; count: number }[]> {
    return this.repository.list(owner);
  }

  /** Images in the collection (from its index, so the count matches what search sees). */
  async count(collection: Collection): Promise<number> {
    return (await this.indexes.get(collection)).size;
  }

  async delete(collection: Collection): Promise<void> {
    await this.indexes.deleteCollection(collection.id, () => this.repository.delete(collection.id));
    this.cache.delete(collection.id);
  }

  async deleteImage(collection: Collection, imageId: string): Promise<void> {
    const existed = await this.indexes.write(collection, () => this.repository.deleteImage(collection.id, imageId));
    if (!existed) throw new CollectionError('collection.image-not-found', `No image ${imageId} in collection ${collection.id}`);
  }

  /** The model that made the collection's codes; images can only be hashed while it is served. */
  private model(collection: Collection): HashingModel {
    const model = this.hasher.model(collection.modelName);
    if (!model) {
      throw new ModelUnavailableError(`Model ${collection.modelName} of this collection is not loaded; search by code or imageId still works`);
    }
    if (model.version !== collection.modelVersion) {
      throw new CollectionError(
        'collection.model-version-changed',
        `This collection holds codes of ${collection.modelName} v${collection.modelVersion}, but v${model.version} is served; its codes would not be comparable`,
      );
    }
    return model;
  }

  /**
   * Hashes and stores `files` (externalIds and metadata given per file, in file order). A file
   * that does not decode gets its own error; a file whose SHA-256 the collection (or an earlier
   * file of the request) holds is a duplicate of that image and changes nothing.
   */
  async addImages(collection: Collection, files: ImageFile[], externalIds: (string | null)[], metadata: Record<string, unknown>[]): Promise<ImageUploadResult[]> {
    const model = this.model(collection);
    await this.indexes.get(collection); // a missing collection fails before any decoding

    // Decode every file (a file that fails becomes its own error entry), then encode them all
    // at once so the micro-batcher sends full batches to ONNX Runtime.
    const results: ImageUploadResult[] = files.map((file, i) => ({ index: i, fileName: file.clientName, outcome: ImageUploadOutcome.failed }));
    const tensors = await mapLimit(files, DECODE_CONCURRENCY, async (file, i) => {
      try {
        return await this.hasher.preprocessFile(model, file);
      } catch (error) {
        if (!(error instanceof ImageRejectedError)) throw error;
        results[i].error = { code: error.code, detail: error.detail };
        return null;
      }
    });
    const codes = await Promise.all(tensors.map((tensor) => (tensor ? this.hasher.encode(model, tensor) : null)));

    // First file of each SHA-256 is inserted; later copies in the same request are duplicates of it.
    const firstBySha = new Map<string, number>();
    const rows: NewImage[] = [];
    files.forEach((file, i) => {
      const code = codes[i];
      if (!code || firstBySha.has(file.sha256)) return;
      firstBySha.set(file.sha256, i);
      rows.push({ id: randomUUID(), collectionId: collection.id, code: new Uint8Array(code), externalId: externalIds[i], metadata: metadata[i], sha256: file.sha256 });
    });

    // The index gets the new images from the feed, in insertion order (tie order), before this returns.
    const stored = await this.indexes.write(collection, async () => {
      const created = await this.repository.insertNew(collection.id, rows);
      const createdShas = new Set(created.map((r) => r.sha256));
      const existing = await this.repository.findBySha256(collection.id, [...firstBySha.keys()].filter((sha) => !createdShas.has(sha)));
      return { created: new Map(created.map((r) => [r.sha256, r])), existing: new Map(existing.map((r) => [r.sha256, r])) };
    });

    files.forEach((file, i) => {
      if (!codes[i]) return;
      const fresh = stored.created.get(file.sha256);
      const isNew = fresh !== undefined && firstBySha.get(file.sha256) === i;
      const image: StoredImage | undefined = fresh ?? stored.existing.get(file.sha256);
      if (!image) {
        // Deleted between our insert attempt and the look-up: report it rather than guess.
        results[i].error = { code: 'collection.concurrent-delete', detail: 'an identical image was deleted while this one was being added; retry' };
        return;
      }
      Object.assign(results[i], {
        outcome: isNew ? ImageUploadOutcome.added : ImageUploadOutcome.duplicate,
        id: image.id,
        externalId: image.externalId,
        code: codeToHex(image.code),
        duplicate: !isNew,
      });
    });
    return results;
  }

  /** Nearest images to an image file (hashed with the collection's model; ImageRejectedError when it does not decode). */
  async searchByImage(collection: Collection, file: ImageFile, options: SearchOptions): Promise<SearchResult[]> {
    const index = await this.indexes.get(collection);
    this.checkOptions(options, collection.bits);
    return this.search(index, await this.hasher.hashFile(this.model(collection), file), options);
  }

  /** Nearest images to a packed code given in hex (bits/4 digits, padding bits 0). */
  async searchByCode(collection: Collection, hex: string, options: SearchOptions): Promise<SearchResult[]> {
    const index = await this.indexes.get(collection);
    this.checkOptions(options, collection.bits);
    const code = hexToCode(hex, collection.bits);
    if (!code) {
      throw new CollectionError('collection.invalid-search', `code must be ${Math.ceil(collection.bits / 8) * 2} hex digits for this ${collection.bits}-bit collection (padding bits 0); got ${hex.length}`, 'code');
    }
    return this.search(index, code, options);
  }

  /** Nearest images to a stored image of the collection. */
  async searchByImageId(collection: Collection, imageId: string, options: SearchOptions): Promise<SearchResult[]> {
    const index = await this.indexes.get(collection);
    this.checkOptions(options, collection.bits);
    const stored = index.get(imageId);
    if (!stored) throw new CollectionError('collection.image-not-found', `No image ${imageId} in collection ${collection.id}`);
    return this.search(index, stored.code, options);
  }

  /** Options that depend on the collection: the distance bound and scalar metadata filters. */
  private checkOptions(options: SearchOptions, bits: number): void {
    if (options.maxDistance !== undefined && options.maxDistance > bits) {
      throw new CollectionError('collection.invalid-search', `maxDistance must be at most ${bits} (the collection's bits)`, 'maxDistance');
    }
    for (const [key, value] of Object.entries(options.filter ?? {})) {
      if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new CollectionError('collection.invalid-search', `filter.${key} must be a string, number, boolean or null (equality on one metadata value)`, `filter.${key}`);
      }
    }
  }

  private search(index: HammingIndex, code: Uint8Array, options: SearchOptions): SearchResult[] {
    const hits = index.search(code, { k: options.k, maxDistance: options.maxDistance, filter: options.filter as MetadataFilter | undefined });
    return hits.map((h) => ({ imageId: h.image.id, externalId: h.image.externalId, distance: h.distance, metadata: h.image.metadata }));
  }
}
