/** An image collection: its codes all come from one model version, fixed at creation. */
export type Collection = { id: string; name: string; bits: number; modelName: string; modelVersion: string; owner: string; createdAt: Date };

/** A stored image as search and ingestion report it. */
export type StoredImage = { id: string; sha256: string; code: Uint8Array; externalId: string | null; metadata: Record<string, unknown> };

/** A new image row (its insertion sequence is given by the database). */
export type NewImage = { id: string; collectionId: string; code: Uint8Array<ArrayBuffer>; externalId: string | null; metadata: Record<string, unknown>; sha256: string };

/** An uploaded image file on disk, as ingestion and search by image read it. */
export type ImageFile = { clientName: string; path: string; sha256: string };

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
  /** Why the file was not stored: the status and problem slug it would have got alone. */
  error?: { status: number; problem: string; detail: string };
};

export type SearchOptions = { k: number; maxDistance?: number; filter?: Record<string, unknown> };

export type SearchResult = { imageId: string; externalId: string | null; distance: number; metadata: Record<string, unknown> };

/** A request the collection cannot serve; `status` is its HTTP answer, `field` the request field at fault. */
export class CollectionError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 503,
    readonly problem: 'collection-not-found' | 'image-not-found' | 'invalid-request' | 'model-unavailable' | 'model-version-changed',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
