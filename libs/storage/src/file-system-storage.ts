import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Storage, StorageUnavailableError, checkKey } from './storage.js';

/**
 * The store as a folder (STORAGE_DIR, by default DATA_DIR): a local disk for one machine, a
 * shared volume (NFS, a Docker or Kubernetes volume) for several. Keys are paths under the root;
 * reading and writing in place, `commit` has nothing to do. Uploads wait in `<root>/tmp`, on the
 * same filesystem, so taking one over is a rename.
 */
export class FileSystemStorage extends Storage {
  readonly root: string;

  constructor(root: string) {
    super();
    this.root = path.resolve(root);
  }

  describe(): string {
    return `filesystem storage at ${this.root}`;
  }

  /** Creates the root if needed, then writes, reads back and deletes a probe file: what every process needs to do there. */
  async check(): Promise<void> {
    const probe = path.join(this.root, `.lumen-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    const content = `lumen storage probe ${new Date().toISOString()}`;
    try {
      await fs.mkdir(this.root, { recursive: true });
      await fs.writeFile(probe, content);
      if ((await fs.readFile(probe, 'utf8')) !== content) throw new Error('the probe file read back differently');
      await fs.rm(probe);
      await fs.mkdir(this.uploadDirectory(), { recursive: true });
    } catch (error) {
      await fs.rm(probe, { force: true }).catch(() => undefined);
      throw new StorageUnavailableError(
        `Storage root ${this.root} cannot be written by this process (${(error as Error).message}). ` +
          'Uploads and results live there and every API and worker process must reach the same folder: ' +
          'mount the shared volume there (read-write) or set STORAGE_DIR (default DATA_DIR) to one this process can write.',
      );
    }
  }

  uploadDirectory(): string {
    return path.join(this.root, 'tmp');
  }

  /** The file of a key. */
  private file(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async putFile(localFile: string, key: string): Promise<void> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(localFile, target);
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    await fs.writeFile(await this.writePath(key), bytes);
  }

  async writePath(key: string): Promise<string> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    return target;
  }

  async writeDirectory(prefix: string): Promise<string> {
    const target = this.file(prefix);
    await fs.mkdir(target, { recursive: true });
    return target;
  }

  async commit(key: string): Promise<void> {
    checkKey(key); // written in place
  }

  async readPath(key: string): Promise<string> {
    return this.file(key);
  }

  async exists(key: string): Promise<boolean> {
    return fs.access(this.file(key)).then(
      () => true,
      () => false,
    );
  }

  async removeAll(prefix: string): Promise<void> {
    await fs.rm(this.file(prefix), { recursive: true, force: true });
  }
}
