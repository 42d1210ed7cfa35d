import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from './file-system-storage.js';
import { StorageUnavailableError, checkKey } from './storage.js';

describe('FileSystemStorage', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-storage-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('stores, reads and removes objects by key under its root, uploads moving in from its upload folder', async () => {
    const storage = new FileSystemStorage(path.join(root, 'store'));
    await storage.check();
    const upload = path.join(storage.uploadDirectory(), 'part-1');
    fs.writeFileSync(upload, 'ct bytes');
    await storage.putFile(upload, 'segmentations/job/input.nii.gz');
    expect(fs.existsSync(upload)).toBe(false);
    await storage.putBytes('segmentations/job/preview.png', new Uint8Array([1, 2, 3]));
    const written = await storage.writePath('segmentations/job/labels.nii.gz');
    fs.writeFileSync(written, 'labels');
    await storage.commit('segmentations/job/labels.nii.gz');
    expect(fs.readFileSync(await storage.readPath('segmentations/job/input.nii.gz'), 'utf8')).toBe('ct bytes');
    expect(fs.readFileSync(await storage.readPath('segmentations/job/labels.nii.gz'), 'utf8')).toBe('labels');
    expect(await storage.exists('segmentations/job/preview.png')).toBe(true);
    expect(await storage.exists('segmentations/job/missing')).toBe(false);
    await storage.removeAll('segmentations/job');
    expect(await storage.exists('segmentations/job/input.nii.gz')).toBe(false);
    expect(fs.readdirSync(path.join(root, 'store')).sort()).toEqual(['segmentations', 'tmp']); // no probe file left
  });

  it.each(['', '/etc/passwd', '../outside', 'a/../../b', 'a//b', 'a/./b', 'a\\b'])('refuses the key %j, which could leave the root', async (key) => {
    expect(() => checkKey(key)).toThrow('not a storage key');
    await expect(new FileSystemStorage(root).readPath(key)).rejects.toThrow('not a storage key');
  });

  it('refuses to start on a root it cannot write, naming the root, the reason and the fix', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, '');
    const storage = new FileSystemStorage(path.join(file, 'store'));
    const error = await storage.check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toContain(`Storage root ${path.join(file, 'store')} cannot be written by this process (ENOTDIR`);
    expect((error as Error).message).toContain('set STORAGE_DIR');
  });
});
