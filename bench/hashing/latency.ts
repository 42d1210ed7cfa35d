/**
 * HTTP search latency on loopback: p50/p99 at 50 and 200 concurrent connections (autocannon:
 * each connection sends its next request when the previous answer has arrived; whole ms),
 * searching a collection of CIFAR-10 test images by code (k = 10). Counts every non-2xx answer
 * or network error; the run fails if there is any.
 *
 *   npm run build && node dist/bench/hashing/latency.js [--images 5000] [--seconds 15] [--mode code|image]
 */
import fs from 'node:fs';
import os from 'node:os';
import { type LoadRequest, httpLoad, multipartBody } from '../http-load.js';
import { type Api, arg, call, cifarFiles, startApi } from './support.js';

const imageCount = Number(arg('images', '5000'));
const seconds = Number(arg('seconds', '15'));
const mode = arg('mode', 'code');

/** Query bodies made once: JSON by code, or multipart with one query image (at most 200 distinct). */
async function queryBodies(codes: string[], queryFiles: string[]): Promise<LoadRequest[]> {
  if (mode !== 'image') return codes.map((code) => ({ method: 'POST', path: '', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, k: 10 }) }));
  const bodies: LoadRequest[] = [];
  for (const file of queryFiles.slice(0, 200)) {
    const form = new FormData();
    form.append('image', new Blob([fs.readFileSync(file)]), 'q.jpg');
    const { body, contentType } = await multipartBody(form);
    bodies.push({ method: 'POST', path: '', headers: { 'content-type': contentType }, body });
  }
  return bodies;
}

async function load(api: Api, collectionId: string, connections: number, bodies: LoadRequest[]) {
  let n = 0;
  const path = `/collections/${collectionId}/search`;
  const result = await httpLoad(api.url, {
    connections,
    seconds,
    next: () => {
      const query = bodies[n++ % bodies.length];
      return { ...query, path, headers: { ...query.headers, 'x-api-key': api.key } };
    },
  });
  return { connections, requests: result.requests, requestsPerSecond: result.requestsPerSecond, p50Ms: result.latencyMs.p50, p99Ms: result.latencyMs.p99, errors: result.errors, firstError: result.firstError };
}

async function main(): Promise<void> {
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
    const bodies = await queryBodies(codes, files.map((f) => f.file));
    await load(api, collection.id, 10, bodies); // warm-up
    const runs = [];
    for (const connections of [50, 200]) runs.push(await load(api, collection.id, connections, bodies));
    console.log(JSON.stringify({ mode, collectionSize: codes.length, k: 10, secondsPerRun: seconds, runs, cpu: `${os.cpus().length}× ${os.cpus()[0]?.model}` }, null, 2));
    if (runs.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await api.stop();
  }
}

await main();
