import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { VolumeError } from './volume-error.js';

export type ZipLimits = { maxEntries: number; maxUncompressedBytes: number };

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Whether a file starts like a zip archive (local file header signature). */
export async function looksLikeZip(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ZIP_MAGIC);
  } finally {
    await handle.close();
  }
}

/** The entry's name as the archive spells it, or a VolumeError when it is not a safe relative path. */
function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false).replace(/\\/g, '/');
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.split('/').includes('..')) {
    throw new VolumeError('volume.unsafe-zip-entry', `Zip entry "${name}" points outside the archive`);
  }
  // Made by Unix (3) with S_IFLNK: unzip tools would create a real link.
  if (entry.versionMadeBy >> 8 === 3 && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) {
    throw new VolumeError('volume.unsafe-zip-entry', `Zip entry "${name}" is a symbolic link; upload regular DICOM files only`);
  }
  return name;
}

/**
 * Extracts a zip of DICOM files into `directory` under generated names (entry names never
 * become paths; each file comes back with its entry name, for messages), one entry at a time, each streamed from the archive on disk to its file: the
 * archive is never held in memory. The central directory is read first, so the entry count and
 * the declared sizes are checked before anything is written; yauzl checks every entry's actual
 * size against its declared one while inflating. Refuses traversal, symbolic links, nested
 * archives and zip bombs.
 */
export async function extractZip(zipFile: string, directory: string, limits: ZipLimits): Promise<{ path: string; name: string }[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, { decodeStrings: false, autoClose: false, validateEntrySizes: true });
  } catch (error) {
    throw new VolumeError('volume.invalid-zip', `The upload is not a readable zip archive: ${(error as Error).message}`);
  }
  const files: { path: string; name: string }[] = [];
  try {
    // First the central directory alone: every entry checked before a byte is written.
    const entries: { entry: yauzl.Entry; name: string }[] = [];
    let total = 0;
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      if (name.endsWith('/') || name.startsWith('__MACOSX/') || name.endsWith('.DS_Store')) continue;
      if (/\.(zip|gz|tgz|tar|7z|rar)$/i.test(name)) throw new VolumeError('volume.nested-archive', `Zip entry "${name}" is an archive; upload one flat zip of DICOM files`);
      total += entry.uncompressedSize;
      if (total > limits.maxUncompressedBytes) throw new VolumeError('volume.zip-too-large', `The zip expands to more than ${limits.maxUncompressedBytes} bytes`);
      entries.push({ entry, name });
    }
    if (entries.length > limits.maxEntries) throw new VolumeError('volume.too-many-zip-entries', `The zip holds ${entries.length} files; the limit is ${limits.maxEntries}`);
    await fs.promises.mkdir(directory, { recursive: true });
    for (const { entry, name } of entries) {
      const target = path.join(directory, `${String(files.length).padStart(6, '0')}.dcm`);
      files.push({ path: target, name });
      let head = Buffer.alloc(0);
      const nested = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          if (head.length < 4) {
            head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
            if (head.length === 4 && head.equals(ZIP_MAGIC)) {
              return callback(new VolumeError('volume.nested-archive', `Zip entry "${name}" is itself a zip; upload one flat zip of DICOM files`));
            }
          }
          callback(null, chunk);
        },
      });
      await pipeline(await zip.openReadStreamPromise(entry), nested, fs.createWriteStream(target, { mode: 0o600 }));
    }
  } catch (error) {
    if (error instanceof VolumeError) throw error;
    throw new VolumeError('volume.invalid-zip', `The upload is not a readable zip archive: ${(error as Error).message}`);
  } finally {
    zip.close();
  }
  if (files.length === 0) throw new VolumeError('volume.empty-zip', 'The zip holds no files');
  return files;
}
