/**
 * How much a large DICOM upload raises the API process's resident memory: a synthetic CT series
 * (512×512 int16 slices, 0.5 MiB each) is written to disk, then sent to POST /segmentations as
 * many `image` parts (a folder dropped on the page) and as one zip, each streamed from disk. The
 * API runs without its in-process worker (WORKER_ENABLED=false, as docker compose runs it), so
 * what is measured is the API's own work: receiving the parts, extracting the zip, reading the
 * headers, grouping, checking and queuing. Peak RSS comes from the kernel's high-water mark
 * (VmHWM, reset before each upload through /proc/<pid>/clear_refs), checked against sampling.
 * The target: a 2 GB series raises API RSS by at most 300 MB.
 *
 *   npm run build && node dist/bench/segmentation/dicom-upload-rss.js [megabytes=300] [parts|zip|both]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Zip, ZipPassThrough } from 'fflate';
import { newUid, syntheticSlice } from '../../test/support/dicom-fixtures.js';
import { ROOT, startBenchApi } from '../support.js';

const megabytes = Number(process.argv[2] ?? process.env.DICOM_BENCH_MB ?? 300);
const modes = (process.argv[3] ?? 'both') === 'both' ? ['parts', 'zip'] : [process.argv[3]];
const ROWS = 512;
const COLUMNS = 512;
const sliceBytes = ROWS * COLUMNS * 2;
const slices = Math.max(2, Math.round((megabytes * 1024 * 1024) / sliceBytes));

const mib = (bytes: number) => Number((bytes / (1 << 20)).toFixed(1));

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Writes the series to `dir`, one file per slice, and a zip of it beside them (streamed, stored). */
async function writeSeries(dir: string): Promise<{ files: string[]; zip: string }> {
  const series = { rows: ROWS, columns: COLUMNS, studyUid: newUid(), seriesUid: newUid(), frameOfReferenceUid: newUid(), spacingMm: 1 };
  const zipPath = path.join(dir, 'series.zip');
  const out = fs.createWriteStream(zipPath);
  const zip = new Zip((error, chunk, final) => {
    if (error) throw error;
    out.write(chunk);
    if (final) out.end();
  });
  const files: string[] = [];
  for (let k = 0; k < slices; k++) {
    const bytes = syntheticSlice(k, series);
    const file = path.join(dir, `IM${String(k).padStart(5, '0')}`);
    fs.writeFileSync(file, bytes);
    files.push(file);
    const entry = new ZipPassThrough(`DICOM/${path.basename(file)}`);
    zip.add(entry);
    entry.push(bytes, true);
    if (out.writableNeedDrain) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  zip.end();
  await new Promise<void>((r) => out.once('finish', () => r()));
  return { files, zip: zipPath };
}

async function measure(api: { url: string; key: string; pid: number }, body: FormData) {
  fs.writeFileSync(`/proc/${api.pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  const before = status(api.pid, 'VmRSS');
  let sampled = before;
  const sampler = setInterval(() => (sampled = Math.max(sampled, status(api.pid, 'VmRSS'))), 20);
  const started = performance.now();
  const response = await fetch(`${api.url}/segmentations`, { method: 'POST', headers: { 'x-api-key': api.key }, body });
  const answer = (await response.json()) as { id?: string; dicom?: { slices: number }; detail?: string };
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const peak = Math.max(status(api.pid, 'VmHWM'), sampled);
  if (response.status !== 202) throw new Error(`upload answered ${response.status}: ${answer.detail}`);
  if (answer.id) await fetch(`${api.url}/segmentations/${answer.id}`, { method: 'DELETE', headers: { 'x-api-key': api.key } });
  return { status: response.status, slicesRead: answer.dicom?.slices, seconds: Number(seconds.toFixed(1)), rssBeforeMiB: mib(before), peakRssMiB: mib(peak), increaseMiB: mib(peak - before) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-dicom-bench-'));
const api = await startBenchApi({
  models: ['ct-organs-coarse', 'ct-organs-fine'],
  scopes: 'segment',
  modelsDir: path.join(ROOT, 'models'),
  env: { WORKER_ENABLED: 'false', UPLOAD_MAX_BYTES: String(Math.ceil(slices * (sliceBytes + 4096) * 1.1)), SEGMENTATION_MAX_VOXELS: String(ROWS * COLUMNS * slices) },
});
try {
  if (!api.pid) throw new Error('the bench must start the API itself (LUMEN_URL is not supported: RSS is read from /proc)');
  const { files, zip } = await writeSeries(dir);
  const seriesBytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const report: Record<string, unknown> = { slices, seriesMiB: mib(seriesBytes), zipMiB: mib(fs.statSync(zip).size), node: process.version, cpus: os.cpus().length };
  // A first small upload loads what the route needs once (dcmjs, yauzl...), as a running server has.
  const warm = new FormData();
  for (const file of files.slice(0, 2)) warm.append('image', await fs.openAsBlob(file), path.basename(file));
  await measure({ ...api, pid: api.pid }, warm);
  for (const mode of modes) {
    const body = new FormData();
    if (mode === 'zip') body.append('image', await fs.openAsBlob(zip), 'series.zip');
    else for (const file of files) body.append('image', await fs.openAsBlob(file), path.basename(file));
    report[mode] = await measure({ ...api, pid: api.pid }, body);
  }
  console.log(JSON.stringify(report, null, 1));
} finally {
  await api.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
