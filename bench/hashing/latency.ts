/**
 * HTTP search latency on loopback: p50/p99 at 50 and 200 concurrent connections (a bounded
 * fetch loop: each connection sends its next request when the previous answer has arrived),
 * searching a collection of CIFAR-10 test images by code (k = 10). Counts every non-2xx answer
 * or network error; the run fails if there is any.
 *
 *   npm run build && node dist/bench/hashing/latency.js [--images 5000] [--seconds 15] [--mode code|image]
 */
import fs from 'node:fs';
import os from 'node:os';
import { type Api, arg, call, cifarFiles, percentile, startApi } from './support.js';

const imageCount = Number(arg('images', '5000'));
const seconds = Number(arg('seconds', '15'));
const mode = arg('mode', 'code');

async function load(api: Api, collectionId: string, connections: number, codes: string[], queryFiles: string[]) {
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const i = n++;
        const start = performance.now();
        try {
          let response: Response;
          if (mode === 'image') {
            const body = new FormData();
            body.append('image', new Blob([fs.readFileSync(queryFiles[i % queryFiles.length])]), 'q.jpg');
            response = await fetch(`${api.url}/collections/${collectionId}/search`, { method: 'POST', headers: { 'x-api-key': api.key }, body });
          } else {
            response = await fetch(`${api.url}/collections/${collectionId}/search`, {
              method: 'POST',
              headers: { 'x-api-key': api.key, 'content-type': 'application/json' },
              body: JSON.stringify({ code: codes[i % codes.length], k: 10 }),
            });
          }
          await response.arrayBuffer();
          if (!response.ok) {
            errors++;
            firstError ||= `HTTP ${response.status}`;
          }
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
        }
        latencies.push(performance.now() - start);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { connections, requests: latencies.length, requestsPerSecond: round(latencies.length / seconds), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), errors, firstError: firstError || undefined };
}

async function main(): Promise<void> {
  // Node's fetch opens as many keep-alive sockets per origin as there are requests in flight.
  const api = await startApi();
  try {
    const files = cifarFiles('test').filter((_, i) => i % Math.max(1, Math.floor(5000 / imageCount)) === 0).slice(0, imageCount);
    const collection = await call<{ id: string }>(api, 'POST', '/collections', { name: 'latency' });
    const codes: string[] = [];
    for (let s = 0; s < files.length; s += 250) {
      const body = new FormData();
      for (const f of files.slice(s, s + 250)) body.append('images', new Blob([fs.readFileSync(f.file)]), f.name);
      const answer = await call<{ results: { code?: string }[] }>(api, 'POST', `/collections/${collection.id}/images`, body);
      for (const r of answer.results) if (r.code) codes.push(r.code);
    }
    const queryFiles = files.map((f) => f.file);
    await load(api, collection.id, 10, codes, queryFiles); // warm-up
    const runs = [];
    for (const connections of [50, 200]) runs.push(await load(api, collection.id, connections, codes, queryFiles));
    console.log(JSON.stringify({ mode, collectionSize: codes.length, k: 10, secondsPerRun: seconds, runs, cpu: `${os.cpus().length}× ${os.cpus()[0]?.model}` }, null, 2));
    if (runs.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await api.stop();
  }
}

await main();
