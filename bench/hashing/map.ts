/**
 * mAP@ALL measured through the HTTP API, from the API's own answers: every database image is
 * uploaded to a collection (in database order: class, then file name, so insertion order = the
 * tie order of training/hashing/evaluate.py), then every query image is searched with k = the
 * database size; relevant = same class; AP over the whole ranked list; mAP = mean over queries.
 * Two figures: as the API ranked (ties oldest first) and tie-averaged (each group of equal
 * distances counted as its expected precision; independent of upload order) — the headline.
 *
 *   npm run build && node dist/bench/hashing/map.js --quick            # 5,000 db / 500 queries
 *   npm run build && node dist/bench/hashing/map.js                    # 50,000 db / 5,000 queries (card protocol)
 *   options: --bits 48|64 (default 64), --concurrency 2
 * The full protocol must match the card's metrics (mapAtAll, mapAtAllTieAveraged) within 0.01.
 */
import fs from 'node:fs';
import os from 'node:os';
import { averagePrecisionAsRanked, averagePrecisionTieAveraged, mean } from '@lumen/hashing';
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
  const full = !quick;
  const database = cifarFiles('train', quick ? 500 : Infinity);
  const queries = cifarFiles('test', quick ? 50 : Infinity);
  const card = readCard(model) as { metrics?: { mapAtAll?: number; mapAtAllTieAveraged?: number; database?: number; queries?: number } };
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
      const relevant = answer.results.map((r) => labelOf.get(r.imageId) === q.label);
      const total = relevantPerLabel.get(q.label) ?? 0;
      return {
        asRanked: averagePrecisionAsRanked(relevant, total),
        tieAveraged: averagePrecisionTieAveraged(answer.results.map((r) => r.distance), relevant, total),
      };
    });
    const searchSeconds = (performance.now() - searchStart) / 1000;
    const mapAtAll = mean(aps.map((a) => a.asRanked));
    const mapTieAveraged = mean(aps.map((a) => a.tieAveraged));
    const cardMap = card.metrics?.mapAtAll ?? null;
    const cardTie = card.metrics?.mapAtAllTieAveraged ?? null;
    const round4 = (x: number): number => Math.round(x * 10000) / 10000;
    const within = (x: number, c: number | null): boolean | null => (full && c !== null ? Math.abs(x - c) <= 0.01 : null);
    console.log(
      JSON.stringify(
        {
          model,
          protocol: full ? 'full: database = 50,000 train JPEGs, queries = 5,000 test JPEGs' : 'quick: database = first 500 train JPEGs per class, queries = first 50 test JPEGs per class',
          database: size,
          duplicatesSkipped: duplicates,
          queries: queries.length,
          mapTieAveragedThroughApi: round4(mapTieAveraged),
          cardMapTieAveraged: cardTie,
          mapAsRankedThroughApi: round4(mapAtAll),
          cardMapAtAll: cardMap,
          differenceTieAveraged: cardTie === null ? null : round4(mapTieAveraged - cardTie),
          differenceAsRanked: cardMap === null ? null : round4(mapAtAll - cardMap),
          withinTolerance: [within(mapTieAveraged, cardTie), within(mapAtAll, cardMap)],
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
    if (within(mapTieAveraged, cardTie) === false || within(mapAtAll, cardMap) === false) process.exitCode = 1;
  } finally {
    await api.stop();
  }
}

await main();
