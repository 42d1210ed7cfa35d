import { DomainError } from '@lumen/errors';
import type { ImageErrorCode, ImageUpload } from '@lumen/hashing';
/** An image collection: its codes all come from one model version, fixed at creation. */
export type Collection = { id: string; name: string; bits: number; modelName: string; modelVersion: string; owner: string; createdAt: Date };

/** A stored image as search and ingestion report it. */
export type StoredImage = { id: string; sha256: string; code: Uint8Array; externalId: string | null; metadata: Record<string, unknown> };

/** A new image row (its insertion sequence is given by the database). */
export type NewImage = { id: string; collectionId: string; code: Uint8Array<ArrayBuffer>; externalId: string | null; metadata: Record<string, unknown>; sha256: string };

/** An uploaded image file on disk (form field, client's name, path), as ingestion and search by image read it. */
export type ImageFile = ImageUpload & { clientName: string; sha256: string };

/**
 * One write of the collection feed (table `collection_event`), in the order every replica applies
 * it: images added (those still stored, in insertion order), one image deleted, or the whole
 * collection deleted.
 */
export type CollectionEvent =
  | { seq: bigint; collectionId: string; kind: 'add'; images: StoredImage[] }
  | { seq: bigint; collectionId: string; kind: 'delete'; imageId: string }
  | { seq: bigint; collectionId: string; kind: 'drop' };

/** Most files per ingestion request. */
export const IMAGES_PER_REQUEST_MAX = 1000;

export enum ImageUploadOutcome {
  added = 'added',
  duplicate = 'duplicate',
  failed = 'failed',
}

/** What became of one file of an ingestion request. */
export type ImageUploadResult = {
  index: number;
  fileName: string;
  outcome: ImageUploadOutcome;
  id?: string;
  externalId?: string | null;
  /** Packed code in hex. */
  code?: string;
  duplicate?: boolean;
  /** Why the file was not stored, as a domain code and words. */
  error?: { code: ImageErrorCode | CollectionErrorCode; detail: string };
};

export type SearchOptions = { k: number; maxDistance?: number; filter?: Record<string, unknown> };

export type SearchResult = { imageId: string; externalId: string | null; distance: number; metadata: Record<string, unknown> };

export const COLLECTION_ERROR_CODES = [
  'collection.not-found',
  'collection.image-not-found',
  /** A search option that this collection cannot take (a code of the wrong length, maxDistance > bits...). */
  'collection.invalid-search',
  /** The collection's model is served in another version: new codes would not be comparable. */
  'collection.model-version-changed',
  /** An identical image was deleted while this one was being added. */
  'collection.concurrent-delete',
] as const;
export type CollectionErrorCode = (typeof COLLECTION_ERROR_CODES)[number];

/** A request the collection cannot serve; `field` is the input at fault, if one is. */
export class CollectionError extends DomainError<CollectionErrorCode> {
  constructor(code: CollectionErrorCode, detail: string, field?: string) {
    super(code, detail, { field });
  }
}
