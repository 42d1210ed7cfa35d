/**
 * Thrown at start-up when this process cannot reach or write the storage root: the message names
 * the root, what failed and how to fix it, and the process refuses to start.
 */
export class StorageUnavailableError extends Error {}

/**
 * Where uploads and results live: one store that every API and worker process reaches (a shared
 * volume today). Objects are named by keys, `/`-separated relative names such as
 * `segmentations/<jobId>/labels.nii.gz`. Domains name their objects (SegmentationStorage knows
 * the segmentation layout) and never build paths under the root themselves, so another store (an
 * object store) is one more implementation of this class. The readers and writers of volumes
 * (itk-wasm, the label-map writer) work on local files, so the contract is staged: `readPath`
 * gives a local file holding an object (an object store would download it first), `writePath` a
 * local file to write an object at, published by `commit` (an object store would upload it then).
 */
export abstract class Storage {
  /** Words for logs and errors: the kind of store and where it is. */
  abstract describe(): string;

  /** Fails with StorageUnavailableError unless this process can reach and write the store. */
  abstract check(): Promise<void>;

  /**
   * The local folder request uploads stream into while their request runs; `putFile` takes them
   * over (on a filesystem store it lies on the same filesystem, so that is a rename).
   */
  abstract uploadDirectory(): string;

  /** Moves a local file in as `key` (the local file is gone afterwards). */
  abstract putFile(localFile: string, key: string): Promise<void>;

  /** Stores `bytes` as `key`. */
  abstract putBytes(key: string, bytes: Uint8Array): Promise<void>;

  /** A local file to write `key` at (its folder exists); `commit(key)` publishes it. */
  abstract writePath(key: string): Promise<string>;

  /** A local folder to write the objects under `prefix/` at (a DICOM series); `commit(prefix)` publishes them. */
  abstract writeDirectory(prefix: string): Promise<string>;

  /** Publishes what was written at `writePath(key)` or `writeDirectory(key)`. */
  abstract commit(key: string): Promise<void>;

  /** A local file holding `key`'s bytes (check `exists` first: a missing object is the caller's error to name). */
  abstract readPath(key: string): Promise<string>;

  abstract exists(key: string): Promise<boolean>;

  /** Removes `prefix` and every object under it. */
  abstract removeAll(prefix: string): Promise<void>;
}

/** Refuses keys that could leave the store: empty, absolute, or with `.`/`..` segments or backslashes. */
export function checkKey(key: string): string {
  const segments = key.split('/');
  if (!key || key.includes('\\') || key.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`not a storage key: ${JSON.stringify(key)}`);
  }
  return key;
}
