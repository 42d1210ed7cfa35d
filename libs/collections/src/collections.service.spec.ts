import { jest } from '@jest/globals';
import { type HashingModel, ImageHasher, ImageRejectedError } from '@lumen/hashing';
import { fakeCollectionsDatabase } from '../testing/fake-collections-database.js';
import { type Collection, CollectionError, type ImageFile, ImageUploadOutcome, type NewImage, type StoredImage } from './collection.js';
import { CollectionIndexes } from './collection-indexes.js';
import { CollectionsRepository } from './collections.repository.js';
import { CollectionsService } from './collections.service.js';

const MODEL = { name: 'hash-16', version: '1', bits: 16 } as HashingModel;
const COLLECTION: Collection = { id: 'c1', name: 'photos', bits: 16, modelName: 'hash-16', modelVersion: '1', owner: 'app', createdAt: new Date(0) };

/** The fake tables with one collection (and `initial` images in it), seen through one replica's repository. */
function fakeRepository(initial: StoredImage[] = []) {
  const database = fakeCollectionsDatabase([COLLECTION], initial);
  return Object.assign(database.repository(), { database });
}

/** A hasher whose "image files" hold their code in the file name: "ffff.png" hashes to 0xffff; "bad.png" does not decode. */
function fakeHasher(served: HashingModel[] = [MODEL]) {
  const codeOf = (file: string) => {
    if (file.startsWith('bad')) throw new ImageRejectedError('image.undecodable', 'the PNG data does not decode');
    return Uint8Array.from(Buffer.from(file.slice(0, 4), 'hex'));
  };
  return {
    servedModel: jest.fn((bits?: number) => {
      const model = served.find((m) => bits === undefined || m.bits === bits);
      if (!model) throw new Error(`no model for ${bits}`);
      return model;
    }),
    model: jest.fn((name: string) => served.find((m) => m.name === name)),
    preprocessFile: jest.fn(async (_model: HashingModel, file: ImageFile) => Float32Array.from(codeOf(file.path))),
    encode: jest.fn(async (_model: HashingModel, tensor: Float32Array) => Uint8Array.from(tensor)),
    hashFile: jest.fn(async (_model: HashingModel, file: ImageFile) => codeOf(file.path)),
  };
}

function setup(options: { images?: StoredImage[]; served?: HashingModel[] } = {}) {
  const repository = fakeRepository(options.images);
  const hasher = fakeHasher(options.served);
  const asRepository = repository as unknown as CollectionsRepository;
  const service = new CollectionsService(asRepository, new CollectionIndexes(asRepository), hasher as unknown as ImageHasher);
  return { service, repository, hasher };
}

const file = (path: string, sha256 = path): ImageFile => ({ field: 'images', clientName: `client-${path}`, path, sha256 });
const stored = (id: string, hex: string, metadata: Record<string, unknown> = {}): StoredImage => ({ id, sha256: `sha-${id}`, code: Uint8Array.from(Buffer.from(hex, 'hex')), externalId: null, metadata });

describe('CollectionsService', () => {
  it('creates a collection with the model the bits pick', async () => {
    const { service, repository } = setup();
    const created = await service.create('app', 'photos', 16);
    expect(created).toMatchObject({ name: 'photos', bits: 16, modelName: 'hash-16', modelVersion: '1', owner: 'app' });
    expect(repository.create).toHaveBeenCalledTimes(1);
  });

  it('caches collections: a second look-up needs no query', async () => {
    const { service, repository } = setup();
    expect(await service.find('c1')).toBe(COLLECTION);
    expect(await service.find('c1')).toBe(COLLECTION);
    expect(await service.find('nope')).toBeNull();
    expect(repository.find).toHaveBeenCalledTimes(2);
  });

  it('adds images with per-file outcomes: added, failed, duplicate in the request and of a stored image', async () => {
    const { service, repository } = setup({ images: [stored('old', '00ff')] });
    const results = await service.addImages(
      COLLECTION,
      [file('ffff.png', 'a'), file('bad.png', 'b'), file('ffff-copy.png', 'a'), file('00ff.png', 'sha-old')],
      ['x', null, 'y', null],
      [{ label: 'cat' }, {}, {}, {}],
    );
    expect(results.map((r) => [r.outcome, r.duplicate, r.code])).toEqual([
      [ImageUploadOutcome.added, false, 'ffff'],
      [ImageUploadOutcome.failed, undefined, undefined],
      [ImageUploadOutcome.duplicate, true, 'ffff'],
      [ImageUploadOutcome.duplicate, true, '00ff'],
    ]);
    expect(results[1].error).toEqual({ code: 'image.undecodable', detail: 'the PNG data does not decode' });
    expect(results[2].id).toBe(results[0].id);
    expect(results[3].id).toBe('old');
    // Only the first copy of a SHA-256 is offered to the database.
    expect(repository.insertNew.mock.calls[0][1].map((r: NewImage) => r.sha256)).toEqual(['a', 'sha-old']);
    expect(await service.count(COLLECTION)).toBe(2);
  });

  it('searches by image, code or stored id: nearest first, ties oldest first, with k, maxDistance and filters', async () => {
    const { service } = setup({ images: [stored('a', '0001', { label: 'cat' }), stored('b', 'ffff'), stored('c', '0001'), stored('d', '0003', { label: 'cat' })] });
    const ids = (hits: { imageId: string }[]) => hits.map((h) => h.imageId);
    expect(ids(await service.searchByCode(COLLECTION, '0000', { k: 10 }))).toEqual(['a', 'c', 'd', 'b']);
    expect(ids(await service.searchByCode(COLLECTION, '0000', { k: 2 }))).toEqual(['a', 'c']);
    expect(ids(await service.searchByCode(COLLECTION, '0000', { k: 10, maxDistance: 1 }))).toEqual(['a', 'c']);
    expect(ids(await service.searchByCode(COLLECTION, '0000', { k: 10, filter: { label: 'cat' } }))).toEqual(['a', 'd']);
    expect(ids(await service.searchByImageId(COLLECTION, 'b', { k: 1 }))).toEqual(['b']);
    expect(await service.searchByImage(COLLECTION, file('0003.png'), { k: 1 })).toEqual([{ imageId: 'd', externalId: null, distance: 0, metadata: { label: 'cat' } }]);
  });

  it.each([
    ['a code of the wrong length', (s: CollectionsService) => s.searchByCode(COLLECTION, '00', { k: 1 }), 'collection.invalid-search', 'code'],
    ['maxDistance above the bits', (s: CollectionsService) => s.searchByCode(COLLECTION, '0000', { k: 1, maxDistance: 17 }), 'collection.invalid-search', 'maxDistance'],
    ['a filter on a non-scalar value', (s: CollectionsService) => s.searchByCode(COLLECTION, '0000', { k: 1, filter: { label: ['cat'] } }), 'collection.invalid-search', 'filter.label'],
    ['an unknown image id', (s: CollectionsService) => s.searchByImageId(COLLECTION, 'nope', { k: 1 }), 'collection.image-not-found', undefined],
    ['deleting an unknown image', (s: CollectionsService) => s.deleteImage(COLLECTION, 'nope'), 'collection.image-not-found', undefined],
  ])('refuses %s with a CollectionError naming the field', async (_what, call, code, field) => {
    const { service } = setup({ images: [stored('a', '0001')] });
    const error = await call(service).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollectionError);
    expect(error).toMatchObject({ code, field });
  });

  it('refuses to hash for a collection whose model is gone or changed version, but still searches by code', async () => {
    const gone = setup({ served: [] });
    await expect(gone.service.addImages(COLLECTION, [file('ffff.png')], [null], [{}])).rejects.toMatchObject({ code: 'model.unavailable' });
    expect(await gone.service.searchByCode(COLLECTION, '0000', { k: 1 })).toEqual([]);
    const changed = setup({ served: [{ ...MODEL, version: '2' }] });
    await expect(changed.service.searchByImage(COLLECTION, file('ffff.png'), { k: 1 })).rejects.toMatchObject({ code: 'collection.model-version-changed' });
  });

  it('deletes an image from the database and the index, and a collection with its index', async () => {
    const { service, repository } = setup({ images: [stored('a', '0001'), stored('b', '0002')] });
    await service.deleteImage(COLLECTION, 'a');
    expect((await service.searchByCode(COLLECTION, '0000', { k: 10 })).map((h) => h.imageId)).toEqual(['b']);
    await service.delete(COLLECTION);
    expect(repository.delete).toHaveBeenCalledWith('c1');
    // The index went with the collection: it is not rebuilt for a collection that is gone.
    expect(await service.find('c1')).toBeNull();
    await expect(service.count(COLLECTION)).rejects.toMatchObject({ code: 'collection.not-found' });
    expect(repository.imagesAfter).toHaveBeenCalledTimes(1);
  });

  it('runs writes of one collection one at a time, in call order', async () => {
    const { service, repository } = setup();
    const order: string[] = [];
    const slow = repository.insertNew.getMockImplementation()!;
    repository.insertNew.mockImplementation(async (id, images) => {
      order.push(`start ${images[0].sha256}`);
      await new Promise((resolve) => setTimeout(resolve, images[0].sha256 === 'first' ? 30 : 0));
      order.push(`end ${images[0].sha256}`);
      return slow(id, images);
    });
    await Promise.all([service.addImages(COLLECTION, [file('0001.png', 'first')], [null], [{}]), service.addImages(COLLECTION, [file('0002.png', 'second')], [null], [{}])]);
    expect(order).toEqual(['start first', 'end first', 'start second', 'end second']);
  });
});
