/**
 * mAP@ALL measured through the HTTP API, from the API's own answers: every database image is
 * uploaded to a collection (in database order: class, then file name, so insertion order = the
 * tie order of training/hashing/evaluate.py), then every query image is searched with k = the
 * database size; relevant = same class; AP over the whole ranked list; mAP = mean over queries.
 *
 *   npm run build && node dist/bench/hashing/map.js --quick            # 5,000 db / 500 queries
 *   npm run build && node dist/bench/hashing/map.js                    # 50,000 db / 5,000 queries (card protocol)
 *   options: --bits 48|64 (default 64), --concurrency 2
 * The full protocol must match the card's metrics.mapAtAll within 0.01.
 */
import fs from 'node:fs';
import os from 'node:os';
import { type Api, type LabelledFile, arg, call, cifarFiles, flag, mapLimit, readCard, startApi } from './support.js';

const quick = flag('quick');
const bits = Number(arg('bits', '64'));
const concurrency = Number(arg('concurrency', '2'));
const model = `hash-cifar10-${bits}bit`;
const UPLOAD_CHUNK = 250;

type UploadResult = { outcome: string; id?: string; error?: { detail: string } };
type SearchResponse = { results: { imageId: string; distance: number }[]; tookMs: number };

function form(files: LabelledFile[], field: string, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const f of files) body.append(field, new Blob([fs.readFileSync(f.file)], { type: 'image/jpeg' }), f.name.split('/').pop());
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  return body;
}

async function main(): Promise<void> {
  const database = cifarFiles('train', quick ? 500 : Infinity);
  const queries = cifarFiles('test', quick ? 50 : Infinity);
  const card = readCard(model) as { metrics?: { mapAtAll?: number; database?: number; queries?: number } };
  const api: Api = await startApi();
  try {
    const collection = await call<{ id: string; bits: number }>(api, 'POST', '/collections', { name: `map-${quick ? 'quick' : 'full'}`, bits });
    const labelOf = new Map<string, number>();
    let duplicates = 0;
    const ingestStart = performance.now();
    for (let s = 0; s < database.length; s += UPLOAD_CHUNK) {
      const chunk = database.slice(s, s + UPLOAD_CHUNK);
      // No external ids or metadata: labels stay on this side, so the k = 50,000 answers stay small.
      const body = form(chunk, 'images');
      const answer = await call<{ results: UploadResult[] }>(api, 'POST', `/collections/${collection.id}/images`, body);
      answer.results.forEach((r, i) => {
        if (r.outcome === 'failed') throw new Error(`${chunk[i].name}: ${r.error?.detail}`);
        if (r.outcome === 'duplicate') duplicates++;
        else labelOf.set(r.id!, chunk[i].label);
      });
    }
    const ingestSeconds = (performance.now() - ingestStart) / 1000;
    const size = labelOf.size;
    const relevantPerLabel = new Map<number, number>();
    for (const label of labelOf.values()) relevantPerLabel.set(label, (relevantPerLabel.get(label) ?? 0) + 1);

    const serverMs: number[] = [];
    const searchStart = performance.now();
    const aps = await mapLimit(queries, concurrency, async (q) => {
      const answer = await call<SearchResponse>(api, 'POST', `/collections/${collection.id}/search`, form([q], 'image', { k: String(size) }));
      if (answer.results.length !== size) throw new Error(`${q.name}: ${answer.results.length} results for ${size} images`);
      serverMs.push(answer.tookMs);
      let hits = 0;
      let sum = 0;
      answer.results.forEach((r, rank) => {
        if (labelOf.get(r.imageId) === q.label) sum += ++hits / (rank + 1);
      });
      return sum / Math.max(1, relevantPerLabel.get(q.label) ?? 0);
    });
    const searchSeconds = (performance.now() - searchStart) / 1000;
    const mapAtAll = aps.reduce((a, b) => a + b, 0) / aps.length;
    const cardMap = card.metrics?.mapAtAll ?? null;
    const full = !quick;
    console.log(
      JSON.stringify(
        {
          model,
          protocol: full ? 'full: database = 50,000 train JPEGs, queries = 5,000 test JPEGs' : 'quick: database = first 500 train JPEGs per class, queries = first 50 test JPEGs per class',
          database: size,
          duplicatesSkipped: duplicates,
          queries: queries.length,
          mapAtAllThroughApi: Math.round(mapAtAll * 10000) / 10000,
          cardMapAtAll: cardMap,
          difference: cardMap === null ? null : Math.round((mapAtAll - cardMap) * 10000) / 10000,
          withinTolerance: full && cardMap !== null ? Math.abs(mapAtAll - cardMap) <= 0.01 : null,
          ingestImagesPerSecond: Math.round(database.length / ingestSeconds),
          searchesPerSecond: Math.round((queries.length / searchSeconds) * 10) / 10,
          serverTookMsMedian: serverMs.sort((a, b) => a - b)[Math.floor(serverMs.length / 2)],
          concurrency,
          cpu: `${os.cpus().length}× ${os.cpus()[0]?.model}`,
        },
        null,
        2,
      ),
    );
    if (full && cardMap !== null && Math.abs(mapAtAll - cardMap) > 0.01) process.exitCode = 1;
  } finally {
    await api.stop();
  }
}

await main();
