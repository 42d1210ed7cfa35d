import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { PrismaService, applyMigrations, projectRoot } from '@lumen/database';
import { type LumenApi, type Schemas, file, lumenApi, ok } from './support/api.js';
import { KEYS, ROOT, type LumenProcess, client, createDatabase, servedVersion, startApi, tempDir } from './support/lumen.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'images');
const FILES = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.jpg')).sort();
const MODELS = 'hash-cifar10-48bit,hash-cifar10-64bit';

type Hit = Schemas['SearchHitDto'];
type UploadResult = Schemas['ImageUploadResultDto'];

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

function blob(bytes: Uint8Array, type = 'application/octet-stream'): Blob {
  return new Blob([new Uint8Array(bytes)], { type });
}

function imageForm(files: [string, Uint8Array][], fields: Record<string, string> = {}, field = 'images'): FormData {
  const form = new FormData();
  for (const [name, bytes] of files) form.append(field, blob(bytes), name);
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return form;
}

function hamming(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 2) {
    let x = parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16);
    for (; x; x &= x - 1) d++;
  }
  return d;
}

async function expectProblem(response: Response, status: number, type?: string): Promise<{ detail: string; errors?: { field: string }[] }> {
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status, body: { status } });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  if (type) expect(body.type).toBe(`urn:lumen:problem:${type}`);
  return body;
}

describe('Collection and Image models (generated Prisma client, real PostgreSQL)', () => {
  let prisma: PrismaService;

  beforeAll(async () => {
    const url = await createDatabase();
    await applyMigrations(url, path.join(projectRoot(), 'prisma', 'migrations'));
    prisma = new PrismaService({ url, embedded: false, stop: async () => {} });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it('creates, reads, updates and deletes a Collection and its Images (cascade, unique SHA-256, insertion sequence)', async () => {
    const collection = await prisma.collection.create({ data: { name: 'c', bits: 48, modelName: 'hash-cifar10-48bit', modelVersion: '1', owner: 'app' } });
    const code = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const first = await prisma.image.create({ data: { collectionId: collection.id, code, sha256: 'a'.repeat(64), externalId: 'x1', metadata: { label: 'cat' } } });
    const second = await prisma.image.create({ data: { collectionId: collection.id, code, sha256: 'b'.repeat(64) } });
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.metadata).toEqual({});
    expect([...(await prisma.image.findUniqueOrThrow({ where: { id: first.id } })).code]).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(prisma.image.create({ data: { collectionId: collection.id, code, sha256: 'a'.repeat(64) } })).rejects.toThrow();
    const updated = await prisma.image.update({ where: { id: first.id }, data: { externalId: null, metadata: { label: 'dog' } } });
    expect(updated).toMatchObject({ externalId: null, metadata: { label: 'dog' } });
    expect((await prisma.collection.update({ where: { id: collection.id }, data: { name: 'renamed' } })).name).toBe('renamed');
    expect(await prisma.collection.findMany({ where: { owner: 'app' }, include: { _count: { select: { images: true } } } })).toMatchObject([{ _count: { images: 2 } }]);
    await prisma.image.delete({ where: { id: second.id } });
    expect(await prisma.image.count({ where: { collectionId: collection.id } })).toBe(1);
    await prisma.collection.delete({ where: { id: collection.id } });
    expect(await prisma.image.count()).toBe(0);
  });
});

describe('image search (real API process, real PostgreSQL, real hashing models)', () => {
  let databaseUrl: string;
  let dataDir: string;
  let api: LumenProcess;
  let app: ReturnType<typeof client>;
  let search: LumenApi;
  let collectionId: string;
  let uploaded: UploadResult[];
  const env = () => ({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, MODELS });

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    dataDir = tempDir();
    api = await startApi(env());
    app = client(api.url, KEYS.search);
    search = lumenApi(api.url, KEYS.search);
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
  });

  function uploadTempFiles(): string[] {
    const dir = path.join(dataDir, 'tmp');
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  }

  it('documents the routes in OpenAPI with operation ids', async () => {
    const spec = await (await fetch(`${api.url}/docs/openapi.json`)).json();
    expect(spec.paths['/collections'].post.operationId).toBe('createCollection');
    expect(spec.paths['/collections/{id}/search'].post.operationId).toBe('searchCollection');
    expect(spec.paths['/collections/{id}/images'].post.operationId).toBe('addImages');
    expect(spec.paths['/collections/{id}/images/{imageId}'].delete.operationId).toBe('deleteImage');
    expect(spec.paths['/hash'].post.operationId).toBe('hashImage');
    expect(spec.components.schemas.ImageUploadOutcome.enum).toEqual(['added', 'duplicate', 'failed']);
  });

  it('creates collections (64 bits by default, 48 on request) visible only to their owner and admins', async () => {
    const created = await app.post('/collections', { name: 'cifar fixtures' });
    expect(created.status).toBe(201);
    const collection = await created.json();
    expect(collection).toMatchObject({ name: 'cifar fixtures', bits: 64, model: { name: 'hash-cifar10-64bit', version: servedVersion('hash-cifar10-64bit') }, count: 0, owner: 'app' });
    collectionId = collection.id;
    const small = await ok(search.POST('/collections', { body: { name: 'small', bits: 48 } }), 201);
    expect(small).toMatchObject({ bits: 48, model: { name: 'hash-cifar10-48bit' } });
    await expectProblem(await app.post('/collections', { name: 'odd', bits: 32 }), 400, 'unsupported-bits');
    await expectProblem(await app.post('/collections', { bits: 48 }), 400);
    expect((await ok(search.GET('/collections'))).items.map((c) => c.id)).toEqual([small.id, collectionId]);
    await expectProblem(await client(api.url, KEYS.otherSearch).get(`/collections/${collectionId}`), 404, 'collection-not-found');
    expect((await ok(lumenApi(api.url, KEYS.otherSearch).GET('/collections'))).items).toEqual([]);
    await ok(lumenApi(api.url, KEYS.admin).GET('/collections/{id}', { params: { path: { id: collectionId } } }), 200);
    expect((await lumenApi(api.url, KEYS.hypergraph).GET('/collections')).response.status).toBe(403);
    await ok(search.DELETE('/collections/{id}', { params: { path: { id: small.id } } }), 204);
    await expectProblem(await app.get(`/collections/${small.id}`), 404);
  });

  it('adds images with external ids and metadata, one result per file, duplicates by SHA-256', async () => {
    const body = await ok(
      search.POST('/collections/{id}/images', {
        params: { path: { id: collectionId } },
        body: { images: FILES.map((f) => file(fixture(f), f)), externalIds: JSON.stringify(FILES.map((f) => f.replace('.jpg', ''))), metadata: JSON.stringify(FILES.map((f) => ({ label: f.split('-')[0] }))) },
      }),
      200,
    );
    expect(body).toMatchObject({ added: FILES.length, duplicates: 0, failed: 0 });
    uploaded = body.results;
    uploaded.forEach((r, i) => {
      expect(r).toMatchObject({ index: i, fileName: FILES[i], outcome: 'added', externalId: FILES[i].replace('.jpg', ''), duplicate: false });
      expect(r.code).toMatch(/^[0-9a-f]{16}$/);
    });
    // Codes differ between classes (CSQ pulls a class onto one centre, so same-class ties are expected).
    expect(new Set(uploaded.map((r) => r.code)).size).toBeGreaterThanOrEqual(5);

    const again = await ok(search.POST('/collections/{id}/images', { params: { path: { id: collectionId } }, body: { images: [file(fixture(FILES[3]), 'copy.jpg')] } }));
    expect(again).toMatchObject({ added: 0, duplicates: 1, results: [{ outcome: 'duplicate', duplicate: true, id: uploaded[3].id, code: uploaded[3].code, externalId: uploaded[3].externalId }] });
    expect((await ok(search.GET('/collections/{id}', { params: { path: { id: collectionId } } }))).count).toBe(FILES.length);
  });

  it('hashes an image without storing it, with the same code as ingestion', async () => {
    const response = await app.postForm('/hash', imageForm([[FILES[5], fixture(FILES[5])]], {}, 'image'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ code: uploaded[5].code, bits: 64, model: { name: 'hash-cifar10-64bit', version: servedVersion('hash-cifar10-64bit') } });
    const small = await (await app.postForm('/hash', imageForm([[FILES[5], fixture(FILES[5])]], { bits: '48' }, 'image'))).json();
    expect(small).toMatchObject({ bits: 48, model: { name: 'hash-cifar10-48bit' } });
    expect(small.code).toMatch(/^[0-9a-f]{12}$/);
    await expectProblem(await app.postForm('/hash', imageForm([[FILES[5], fixture(FILES[5])]], { bits: '32' }, 'image')), 400, 'unsupported-bits');
    await expectProblem(await app.postForm('/hash', imageForm([], { bits: '48' }, 'image')), 400, 'missing-image');
    // The same pixels losslessly as PNG, WebP and TIFF give the same code; AVIF and GIF (a palette) decode too.
    const jpeg = fixture(FILES[5]);
    for (const [name, bytes, same] of [
      ['x.png', await sharp(jpeg).png().toBuffer(), true],
      ['x.webp', await sharp(jpeg).webp({ lossless: true }).toBuffer(), true],
      ['x.tif', await sharp(jpeg).tiff({ compression: 'lzw' }).toBuffer(), true],
      ['x.avif', await sharp(jpeg).avif().toBuffer(), false],
      ['x.gif', await sharp(jpeg).gif().toBuffer(), false],
    ] as [string, Buffer, boolean][]) {
      const { code } = await ok(search.POST('/hash', { body: { image: file(bytes, name) } }), 200);
      expect(code).toMatch(/^[0-9a-f]{16}$/);
      if (same) expect({ name, code }).toEqual({ name, code: uploaded[5].code });
    }
    // EXIF orientation is applied: a rotated-by-metadata copy hashes like the pixels rotated for real.
    const tagged = await sharp(jpeg).png().withMetadata({ orientation: 6 }).toBuffer();
    const rotated = await sharp(jpeg).rotate(90).png().toBuffer();
    const codeOf = async (bytes: Buffer) => (await ok(search.POST('/hash', { body: { image: file(bytes, 'r.png') } }))).code;
    expect(await codeOf(tagged)).toBe(await codeOf(rotated));
    // Alpha is flattened on white.
    const transparent = await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const white = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ffffff' } }).png().toBuffer();
    expect(await codeOf(transparent)).toBe(await codeOf(white));
  });

  it('ranks by Hamming distance with ties in insertion order, exactly like a brute-force reference', async () => {
    const stored = uploaded.map((r) => ({ id: r.id!, code: r.code! }));
    for (const query of [0, 7, 13, 19]) {
      const expected = stored
        .map((s, order) => ({ imageId: s.id, distance: hamming(s.code, stored[query].code), order }))
        .sort((a, b) => a.distance - b.distance || a.order - b.order)
        .map(({ imageId, distance }) => ({ imageId, distance }));
      const byImage = await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body: { image: file(fixture(FILES[query]), 'q.jpg'), k: 100 } }));
      expect(byImage.results.map((h) => ({ imageId: h.imageId, distance: h.distance }))).toEqual(expected);
      // The query's own image is at distance 0 (after older images with the same code, if any).
      expect(byImage.results.find((h) => h.imageId === stored[query].id)).toEqual({
        imageId: stored[query].id,
        distance: 0,
        externalId: FILES[query].replace('.jpg', ''),
        metadata: { label: FILES[query].split('-')[0] },
      });
      expect(typeof byImage.tookMs).toBe('number');
      const byCode = await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body: { code: stored[query].code, k: 100 } }));
      expect(byCode.results).toEqual(byImage.results);
      const byId = await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body: { imageId: stored[query].id, k: 5 } }));
      expect(byId.results).toEqual(byImage.results.slice(0, 5));
    }
  });

  it('applies k, maxDistance and metadata filters', async () => {
    const code = uploaded[0].code!;
    const find = async (body: Schemas['SearchRequestDto'] | Schemas['SearchFormDto']) => (await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body }))).results;
    const all: Hit[] = await find({ code, k: 100 });
    expect(await find({ code })).toEqual(all.slice(0, 10));
    const radius = all[Math.floor(all.length / 2)].distance;
    const near = await find({ code, k: 100, maxDistance: radius });
    expect(near).toEqual(all.filter((h) => h.distance <= radius));
    const cats = await find({ code, k: 100, filter: { label: 'cat' } });
    expect(cats).toEqual(all.filter((h) => h.metadata.label === 'cat'));
    // Multipart: the filter object travels as a JSON text field.
    const ships = await find({ image: file(fixture(FILES[0]), 'q.jpg'), k: 3, filter: { label: 'ship' } });
    expect(ships).toEqual(all.filter((h) => h.metadata.label === 'ship').slice(0, 3));
  });

  it('rejects bad images with problem+json (415, 422, 413) and leaves no temp file', async () => {
    const jpeg = fixture(FILES[2]);
    const bomb = await sharp({ create: { width: 20_000, height: 20_000, channels: 3, background: '#808080' }, limitInputPixels: false }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(2_000_000);
    const cases: [string, Uint8Array, number, string][] = [
      ['notes.txt', Buffer.from('these bytes are not an image at all'), 415, 'unsupported-image-format'],
      ['truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 422, 'undecodable-image'],
      ['empty.jpg', new Uint8Array(0), 422, 'empty-image'],
      ['bomb.png', bomb, 413, 'image-too-large'],
      ['vector.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="red"/></svg>'), 415, 'unsupported-image-format'],
      ['doc.pdf', Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'), 415, 'unsupported-image-format'],
    ];
    for (const [name, bytes, status, type] of cases) {
      const hashed = await app.postForm('/hash', imageForm([[name, bytes]], {}, 'image'));
      expect((await expectProblem(hashed, status, type)).detail).toContain(name);
      const searched = await app.postForm(`/collections/${collectionId}/search`, imageForm([[name, bytes]], {}, 'image'));
      await expectProblem(searched, status, type);
    }
    // In a batch each bad file gets its own error and the good ones are stored.
    const fresh = await sharp(jpeg).flop().jpeg().toBuffer();
    const batch = await (await app.postForm(`/collections/${collectionId}/images`, imageForm([['good.jpg', fresh], ...cases.map(([n, b]) => [n, b] as [string, Uint8Array])]))).json();
    expect(batch).toMatchObject({ added: 1, duplicates: 0, failed: cases.length });
    expect(batch.results.slice(1).map((r: UploadResult) => [r.fileName, r.error?.status, r.error?.type])).toEqual(cases.map(([n, , s, t]) => [n, s, `urn:lumen:problem:${t}`]));
    expect((await (await app.get(`/collections/${collectionId}`)).json()).count).toBe(FILES.length + 1);
    expect((await app.delete(`/collections/${collectionId}/images/${batch.results[0].id}`)).status).toBe(204);
    expect(uploadTempFiles()).toEqual([]);
  });

  it('rejects bad requests with 4xx naming the field, and unknown collections or images with 404', async () => {
    const search = (body: unknown) => app.post(`/collections/${collectionId}/search`, body);
    const code = uploaded[0].code!;
    const fieldOf = async (response: Response, status = 400) => (await expectProblem(response, status)).errors?.map((e) => e.field);
    expect(await fieldOf(await search({ code, k: 0 }))).toEqual(['k']);
    expect(await fieldOf(await search({ code, k: 100_001 }))).toEqual(['k']);
    expect(await fieldOf(await search({ code, maxDistance: 65 }))).toEqual(['maxDistance']);
    expect(await fieldOf(await search({ code, maxDistance: -1 }))).toEqual(['maxDistance']);
    expect(await fieldOf(await search({ code: code.slice(2) }))).toEqual(['code']);
    expect(await fieldOf(await search({ code: `${code}00` }))).toEqual(['code']);
    expect(await fieldOf(await search({ code: 'zz'.repeat(8) }))).toEqual(['code']);
    expect(await fieldOf(await search({ code, filter: { label: ['cat'] } }))).toEqual(['filter.label']);
    expect(await fieldOf(await search({ code, color: 'red' }))).toEqual(['color']);
    expect(await fieldOf(await search({ code, imageId: uploaded[0].id }))).toEqual(['imageId']);
    expect(await fieldOf(await search({ k: 5 }))).toEqual(['imageId']);
    expect(await fieldOf(await app.postForm(`/collections/${collectionId}/search`, imageForm([['q.jpg', fixture(FILES[0])]], { k: '0' }, 'image')))).toEqual(['k']);
    expect(await fieldOf(await app.postForm(`/collections/${collectionId}/search`, imageForm([['q.jpg', fixture(FILES[0])]], { filter: '{label' }, 'image')))).toEqual(['filter']);
    expect(await fieldOf(await app.postForm(`/collections/${collectionId}/images`, imageForm([['a.jpg', fixture(FILES[0])]], { externalIds: '["a","b"]' })))).toEqual(['externalIds']);
    expect(await fieldOf(await app.postForm(`/collections/${collectionId}/images`, imageForm([['a.jpg', fixture(FILES[0])]], { metadata: '[7]' })))).toEqual(['metadata[0]']);
    await expectProblem(await app.postForm(`/collections/${collectionId}/images`, imageForm([['a.jpg', fixture(FILES[0])]], {}, 'picture')), 400, 'unexpected-file-field');
    await expectProblem(await search({ imageId: '00000000-0000-4000-8000-000000000000' }), 404, 'image-not-found');
    const unknown = '00000000-0000-4000-8000-000000000000';
    await expectProblem(await app.post(`/collections/${unknown}/search`, { code }), 404, 'collection-not-found');
    await expectProblem(await app.postForm(`/collections/${unknown}/images`, imageForm([['a.jpg', fixture(FILES[0])]])), 404, 'collection-not-found');
    await expectProblem(await app.get('/collections/not-a-uuid'), 400);
    await expectProblem(await client(api.url, KEYS.otherSearch).post(`/collections/${collectionId}/search`, { code }), 404);
    expect(uploadTempFiles()).toEqual([]);
  });

  it('deletes an image: it leaves the results and the count', async () => {
    const victim = uploaded[4];
    await ok(search.DELETE('/collections/{id}/images/{imageId}', { params: { path: { id: collectionId, imageId: victim.id! } } }), 204);
    await expectProblem(await app.delete(`/collections/${collectionId}/images/${victim.id}`), 404, 'image-not-found');
    const { results } = await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body: { code: victim.code, k: 100 } }));
    expect(results.map((h) => h.imageId)).not.toContain(victim.id);
    expect(results).toHaveLength(FILES.length - 1);
    expect((await ok(search.GET('/collections/{id}', { params: { path: { id: collectionId } } }))).count).toBe(FILES.length - 1);
  });

  it('answers identically after a restart (index rebuilt from the database)', async () => {
    const queries = [0, 6, 11, 17].map((i) => ({ code: uploaded[i].code, k: 100 }));
    const answer = async () => Promise.all(queries.map(async (body) => (await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body }))).results));
    const before = await answer();
    expect(await api.stop('SIGTERM')).toBe(0);
    api = await startApi(env());
    app = client(api.url, KEYS.search);
    search = lumenApi(api.url, KEYS.search);
    expect(await answer()).toEqual(before);
    const byImage = await ok(search.POST('/collections/{id}/search', { params: { path: { id: collectionId } }, body: { image: file(fixture(FILES[6]), 'q.jpg'), k: 100 } }));
    expect(byImage.results).toEqual(before[1]);
  }, 180_000);

  it('deletes a collection with its images', async () => {
    await ok(search.DELETE('/collections/{id}', { params: { path: { id: collectionId } } }), 204);
    await expectProblem(await app.post(`/collections/${collectionId}/search`, { code: uploaded[0].code }), 404, 'collection-not-found');
    await expectProblem(await app.delete(`/collections/${collectionId}`), 404);
    const prisma = new PrismaService({ url: databaseUrl, embedded: false, stop: async () => {} });
    try {
      expect(await prisma.image.count({ where: { collectionId } })).toBe(0);
    } finally {
      await prisma.$disconnect();
    }
  });
});
