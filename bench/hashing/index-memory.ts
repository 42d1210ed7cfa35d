/**
 * Memory per code of the served in-memory index (HammingIndex), as an API replica holds a
 * collection: N images with random UUID ids, no external id and a one-key metadata object
 * ({ label }, as the CIFAR-10 collections of docs/hashing.md carry), added one by one as a
 * collection load adds them. Reports, per code, the bytes the index reserves for codes and live
 * flags (`reservedBytes`: WebAssembly memory, grown by doubling, with the scan's scratch space)
 * and the JavaScript heap the ids, metadata objects and the id → slot map add (heapUsed after a
 * full GC, minus before).
 *
 *   npm run build && node --expose-gc dist/bench/hashing/index-memory.js [--sizes 100000,1000000,4000000] [--bits 64]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { HammingIndex } from '@lumen/hashing';
import { arg } from './support.js';

const sizes = arg('sizes', '100000,1000000,4000000').split(',').map(Number);
const bits = Number(arg('bits', '64'));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const LABELS = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

console.log(`| codes | index reserved (MB) | bytes / code reserved | JS heap added (MB) | heap bytes / code | total bytes / code |`);
console.log(`|---|---|---|---|---|---|`);
for (const n of sizes) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const index = new HammingIndex(bits, 1024);
  const code = new Uint8Array(bits / 8);
  for (let i = 0; i < n; i++) {
    code.set(randomBytes(bits / 8));
    index.add({ id: randomUUID(), externalId: null, metadata: { label: LABELS[i % 10] } }, code);
  }
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  const reserved = index.reservedBytes;
  const mb = (b: number) => (b / 1e6).toFixed(1);
  console.log(`| ${n.toLocaleString('en')} | ${mb(reserved)} | ${(reserved / n).toFixed(1)} | ${mb(heap)} | ${(heap / n).toFixed(1)} | ${((reserved + heap) / n).toFixed(1)} |`);
  if (index.size !== n) throw new Error('index lost codes');
}
