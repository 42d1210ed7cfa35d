/**
 * Cascade against single-stage full-resolution tiling, on the same volumes, in one run:
 * wall time, Dice per organ, fraction of fine-grid voxels sent to stage 2, peak RSS.
 *
 *   npm run build && /usr/bin/python3 bench/segmentation/make_volumes.py
 *   node dist/bench/segmentation/cascade-vs-single.js [.cache/bench-ct] [threads]
 *
 * Each (volume, method) runs in its own child process so that peak RSS belongs to that run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCascade, runSingleStage } from '@lumen/segmentation';
import { dice, readVolume } from '@lumen/volumes';
import { ROOT } from '../support.js';
import { servedCascade } from './served-cascade.js';

const ORGANS: [string, number][] = [['liver', 1], ['spleen', 2], ['pancreas', 3]];

async function runOne(volumeFile: string, method: 'cascade' | 'single-stage', threads: number) {
  const { config, infer } = await servedCascade({ threads });
  const volume = await readVolume(volumeFile, 1e9);
  const reference = await readVolume(volumeFile.replace(/\.nii\.gz$/, '_labels.nii.gz'), 1e9);
  const started = performance.now();
  const result = method === 'single-stage' ? await runSingleStage(volume, config, infer) : await runCascade(volume, config, infer, { fast: false, organs: [1, 2, 3] }, async () => {});
  const seconds = (performance.now() - started) / 1000;
  return {
    volume: path.basename(volumeFile),
    size: volume.size,
    method,
    seconds: Number(seconds.toFixed(2)),
    dice: Object.fromEntries(ORGANS.map(([name, id]) => [name, Number((dice(result.labels, id, reference.data, id) ?? NaN).toFixed(4))])),
    stage2VoxelFraction: Number((result.stage2?.voxelFraction ?? 0).toFixed(4)),
    tiles: result.stage2?.tiles,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main() {
  if (process.argv[2] === '--child') {
    console.log(JSON.stringify(await runOne(process.argv[3], process.argv[4] as 'cascade' | 'single-stage', Number(process.argv[5]))));
    return;
  }
  const dir = path.resolve(process.argv[2] ?? path.join(ROOT, '.cache', 'bench-ct'));
  const threads = Number(process.argv[3] ?? Math.min(4, os.availableParallelism()));
  const volumes = fs.readdirSync(dir).filter((f) => f.endsWith('.nii.gz') && !f.includes('_labels')).sort();
  const rows: Awaited<ReturnType<typeof runOne>>[] = [];
  for (const v of volumes) {
    for (const method of ['cascade', 'single-stage'] as const) {
      const out = execFileSync(process.execPath, [import.meta.filename, '--child', path.join(dir, v), method, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const row = JSON.parse(out.trim().split('\n').pop()!);
      rows.push(row);
      console.error(JSON.stringify(row));
    }
  }
  const byVolume = volumes.map((v) => {
    const c = rows.find((r) => r.volume === v && r.method === 'cascade');
    const s = rows.find((r) => r.volume === v && r.method === 'single-stage');
    return { volume: v, timeRatio: c && s ? Number((c.seconds / s.seconds).toFixed(3)) : null, cascade: c, singleStage: s };
  });
  console.log(JSON.stringify({ machine: `${os.cpus()[0]?.model} x${os.availableParallelism()}`, threads, results: byVolume }, null, 1));
}

await main();
