/**
 * Quality gate for the served hashing models, through the HTTP API: a fixed subset of the shared
 * CIFAR-10 JPEGs (the first 200 training images of every class as the database, the first 20
 * test images of every class as queries) is uploaded and searched, and mAP computed from the
 * API's own ranked answers must equal the figure on the model's card for that subset
 * (`metrics.ciSubset`, computed in PyTorch by `training/hashing/evaluate.py --subset`) within
 * 0.005, and be ≥ 0.85. Replacing the served weights by worse ones fails this suite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { averagePrecisionAsRanked, averagePrecisionTieAveraged, mean } from '@lumen/hashing';
import { type LumenApi, file, lumenApi, ok } from './support/api.js';
import { type LabelledFile, cifarFiles } from './support/cifar.js';
import { API_READY_MS, KEYS, ROOT, type LumenProcess, createDatabase, servedVersion, startApi, tempDir } from './support/lumen.js';

const DATABASE_PER_CLASS = 200;
const QUERIES_PER_CLASS = 20;
const UPLOAD_CHUNK = 250;
const TOLERANCE = 0.005;
const FLOOR = 0.85;

type SubsetMetrics = { database: number; queries: number; mapAtAllTieAveraged: number; mapAtAll: number };

function servedCard(name: string): { version: string; metrics: { ciSubset: SubsetMetrics } } {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'models', name, servedVersion(name), 'card.json'), 'utf8'));
}

function jpeg(f: LabelledFile): File {
  return file(fs.readFileSync(f.file), path.basename(f.file), 'image/jpeg');
}

describe('hashing quality through the API (CIFAR-10 subset: 2,000 database images, 200 queries)', () => {
  let api: LumenProcess;
  let search: LumenApi;
  const database = cifarFiles('train', DATABASE_PER_CLASS);
  const queries = cifarFiles('test', QUERIES_PER_CLASS);

  beforeAll(async () => {
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: tempDir(), MODELS: 'hash-cifar10-48bit,hash-cifar10-64bit' });
    search = lumenApi(api.url, KEYS.search);
  }, API_READY_MS + 30_000);

  afterAll(async () => {
    await api?.stop();
  });

  it.each([48, 64])(
    '%i-bit model: mAP (tie-averaged and as ranked) equals the card within 0.005 and is ≥ 0.85',
    async (bits) => {
      const card = servedCard(`hash-cifar10-${bits}bit`);
      const expected = card.metrics.ciSubset;
      expect(expected).toMatchObject({ database: database.length, queries: queries.length });

      const collection = await ok(search.POST('/collections', { body: { name: `quality-${bits}`, bits } }), 201);
      expect(collection.model.version).toBe(card.version);
      const inCollection = { params: { path: { id: collection.id } } };

      const labelOf = new Map<string, number>();
      for (let s = 0; s < database.length; s += UPLOAD_CHUNK) {
        const chunk = database.slice(s, s + UPLOAD_CHUNK);
        const answer = await ok(search.POST('/collections/{id}/images', { ...inCollection, body: { images: chunk.map(jpeg) } }), 200);
        answer.results.forEach((r, i) => {
          expect(r.outcome).toBe('added');
          labelOf.set(r.id!, chunk[i].label);
        });
      }
      expect(labelOf.size).toBe(database.length);

      const asRanked: number[] = [];
      const tieAveraged: number[] = [];
      for (const q of queries) {
        const { results } = await ok(search.POST('/collections/{id}/search', { ...inCollection, body: { image: jpeg(q), k: database.length } }), 200);
        expect(results).toHaveLength(database.length);
        const relevant = results.map((r) => labelOf.get(r.imageId) === q.label);
        asRanked.push(averagePrecisionAsRanked(relevant, DATABASE_PER_CLASS));
        tieAveraged.push(averagePrecisionTieAveraged(results.map((r) => r.distance), relevant, DATABASE_PER_CLASS));
      }
      const measured = { tieAveraged: mean(tieAveraged), asRanked: mean(asRanked) };
      expect(Math.abs(measured.tieAveraged - expected.mapAtAllTieAveraged)).toBeLessThanOrEqual(TOLERANCE);
      expect(Math.abs(measured.asRanked - expected.mapAtAll)).toBeLessThanOrEqual(TOLERANCE);
      expect(measured.tieAveraged).toBeGreaterThanOrEqual(FLOOR);
    },
    180_000,
  );
});
