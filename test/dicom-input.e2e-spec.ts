import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import {
  SYNTAX,
  asSeries,
  blankUids,
  enhancedCt,
  jpegBaselineFile,
  localizer,
  newUid,
  part10,
  rleFile,
  tilted,
  tinySlices,
  unsupportedSyntaxFile,
  withoutMeta,
  withoutPreamble,
} from './support/dicom-fixtures.js';
import { KEYS, ROOT, SHARED_DATA, client, readNifti, useSegmentationApi, waitFor } from './support/lumen.js';

type Dropped = { reason: string; seriesUid: string; files: number };
type Segmentation = {
  id: string;
  status: string;
  fileName: string;
  geometry: { size: number[]; spacing: number[]; origin: number[] };
  dicom: {
    seriesUid: string;
    grouping: string;
    derivedFrom?: Record<string, unknown>;
    transferSyntax: { uid: string; name: string };
    multiFrame: boolean;
    files: number;
    slices: number;
    dropped: Dropped[];
    ignoredFiles: number;
    seriesInUpload: number;
  } | null;
  results: Record<string, { voxels: number }> | null;
  error: { message: string } | null;
};

type Part = { bytes: Buffer; name?: string };

/** One multipart request: every DICOM file as its own `image` part (a folder dropped on the page). */
function folder(parts: Part[], fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const part of parts) body.append('image', new Blob([new Uint8Array(part.bytes)]), part.name ?? 'blob');
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}

const names = (buffers: Buffer[], name: (i: number) => string = (i) => `IM${String(i).padStart(4, '0')}`): Part[] => buffers.map((bytes, i) => ({ bytes, name: name(i) }));

const SEGMENTATION_MS = 240_000;

/** Three real 512×512 CT slices (implicit VR LE) and the same slices in compressed syntaxes made by dcmtk/GDCM. */
const CT_3SLICE = ['01', '02', '03'];
const CT_3SLICE_DIR = path.join(SHARED_DATA, 'dicom', 'dcmqi-ct-3slice');
const COMPRESSED_DIR = path.join(ROOT, 'test', 'fixtures', 'dicom-compressed');
const slicesIn = (dir: string): Part[] => CT_3SLICE.map((n) => ({ bytes: fs.readFileSync(path.join(dir, `${n}.dcm`)), name: `${n}.dcm` }));

/** A NIfTI-1 file (gzip or not) read without a library: grid, datatype and the voxel bytes after vox_offset. */

describe('DICOM input: real exports, many files, compressed pixels (real service)', () => {
  const served = useSegmentationApi();
  const lab = () => client(served.api().url, KEYS.segment);

  async function accepted(body: FormData): Promise<Segmentation> {
    const response = await lab().postForm('/segmentations', body);
    const json = await response.json();
    if (response.status !== 202) throw new Error(`expected 202, got ${response.status}: ${JSON.stringify(json)}`);
    return json as Segmentation;
  }

  async function refused(body: FormData, status: number, problem: string): Promise<Record<string, unknown>> {
    const response = await lab().postForm('/segmentations', body);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const json = await response.json();
    expect({ status: response.status, type: json.type }).toEqual({ status, type: `urn:lumen:problem:${problem}` });
    expect(fs.readdirSync(path.join(served.dataDir(), 'tmp'))).toEqual([]);
    return json;
  }

  async function finished(id: string): Promise<Segmentation> {
    return waitFor(`segmentation ${id}`, async () => {
      const s = (await (await lab().get(`/segmentations/${id}`)).json()) as Segmentation;
      return ['succeeded', 'failed', 'canceled'].includes(s.status) ? s : undefined;
    }, SEGMENTATION_MS, 500);
  }

  /** Jobs only accepted are deleted, so that the worker spends its time on the ones run through. */
  const discard = async (id: string) => expect((await lab().delete(`/segmentations/${id}`)).status).toBe(204);

  it('segments an anonymised export sent as a folder: no SeriesInstanceUID, no preamble, a localiser and a stray file', async () => {
    const slices = tinySlices().map(blankUids);
    const parts: Part[] = [
      { bytes: part10(slices[0]), name: 'IM0001' },
      { bytes: withoutPreamble(part10(slices[1])) }, // the browser's default name: blob
      { bytes: withoutMeta(part10(slices[2])), name: 'slice 3.img' },
      { bytes: part10(localizer(slices[0])), name: 'scout' },
      { bytes: Buffer.from('exported by PACS viewer 1.0'), name: 'README.TXT' },
    ];
    const created = await accepted(folder(parts));
    expect(created.fileName).toBe('5 files');
    expect(created.geometry.size).toEqual([16, 16, 3]);
    expect(created.geometry.spacing[2]).toBeCloseTo(1.25, 2);
    expect(created.geometry.origin[2]).toBeCloseTo(103.02, 2);
    expect(created.dicom).toMatchObject({ grouping: 'derived', files: 3, slices: 3, ignoredFiles: 1, seriesInUpload: 1, transferSyntax: { uid: SYNTAX.explicit } });
    expect(created.dicom!.seriesUid).toMatch(/^derived-[0-9a-f]{16}$/);
    expect(created.dicom!.derivedFrom).toMatchObject({ frameOfReferenceUid: '1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.4', rows: 16, columns: 16 });
    // The scout has another orientation, so another fallback key: its own group, dropped whole.
    expect(created.dicom!.dropped).toEqual([{ reason: 'localizer', seriesUid: expect.stringMatching(/^derived-/), files: 1 }]);
    expect(created.dicom!.dropped[0].seriesUid).not.toBe(created.dicom!.seriesUid);
    // The API kept the three slices only (the localiser and the text file are gone).
    expect(fs.readdirSync(path.join(served.dataDir(), 'segmentations', created.id, 'dicom'))).toHaveLength(3);
    const done = await finished(created.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.dicom).toEqual(created.dicom);
    expect(done.geometry.size).toEqual([16, 16, 3]);
  }, SEGMENTATION_MS + 60_000);

  it('segments a zip of RLE Lossless slices whose entries have no extension', async () => {
    const entries = Object.fromEntries(tinySlices().map((s, i) => [`DICOM/ST0/SE0/IM${i}`, new Uint8Array(rleFile(s))]));
    const body = new FormData();
    body.append('image', new Blob([zipSync(entries)]), 'export.zip');
    const created = await accepted(body);
    expect(created.dicom).toMatchObject({ grouping: 'series-instance-uid', transferSyntax: { uid: SYNTAX.rle, name: 'RLE Lossless' }, slices: 3 });
    const done = await finished(created.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
  }, SEGMENTATION_MS + 60_000);

  it('segments an enhanced multi-frame CT sent as one file with no extension', async () => {
    const created = await accepted(folder([{ bytes: part10(enhancedCt(tinySlices())), name: 'enhanced' }]));
    expect(created.dicom).toMatchObject({ multiFrame: true, files: 1, slices: 3 });
    expect(created.geometry.size).toEqual([16, 16, 3]);
    const done = await finished(created.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
  }, SEGMENTATION_MS + 60_000);

  it('segments JPEG Baseline slices (8-bit, decoded by the worker)', async () => {
    const created = await accepted(folder(names(await Promise.all(tinySlices().map((s) => jpegBaselineFile(s))))));
    expect(created.dicom!.transferSyntax).toEqual({ uid: SYNTAX.jpegBaseline, name: 'JPEG Baseline (Process 1)' });
    const done = await finished(created.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
  }, SEGMENTATION_MS + 60_000);

  /** The CT the worker read from the uncompressed slices: uploaded once, compared against by each compressed syntax. */
  let uncompressed: Promise<ReturnType<typeof readNifti>> | undefined;
  async function imageRead(parts: Part[]): Promise<{ done: Segmentation; image: ReturnType<typeof readNifti> }> {
    const created = await accepted(folder(parts, { fast: 'true' }));
    const done = await finished(created.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const response = await lab().get(`/segmentations/${created.id}/image`);
    expect(response.status).toBe(200);
    return { done, image: readNifti(Buffer.from(await response.arrayBuffer())) };
  }
  const uncompressedImage = () => (uncompressed ??= imageRead(slicesIn(CT_3SLICE_DIR)).then(({ done, image }) => {
    expect(done.dicom!.transferSyntax.uid).toBe(SYNTAX.implicit);
    return image;
  }));

  it.each([
    ['jpeg-lossless', SYNTAX.jpegLossless, 'JPEG Lossless, First-Order Prediction (Process 14, SV1)'],
    ['jpeg-ls', SYNTAX.jpegLs, 'JPEG-LS Lossless'],
    ['jpeg2000', SYNTAX.jpeg2000, 'JPEG 2000 Lossless'],
  ])('reads real CT slices in %s (committed fixtures) voxel for voxel as the uncompressed originals', async (dir, uid, name) => {
    const { done, image } = await imageRead(slicesIn(path.join(COMPRESSED_DIR, dir)));
    expect(done.dicom).toMatchObject({ transferSyntax: { uid, name }, files: 3, slices: 3 });
    const reference = await uncompressedImage();
    expect(image.dims).toEqual([512, 512, 3]);
    expect({ dims: image.dims, datatype: image.datatype, bytes: image.voxels.length }).toEqual({ dims: reference.dims, datatype: reference.datatype, bytes: reference.voxels.length });
    expect(new Set(reference.voxels).size).toBeGreaterThan(2); // real CT, not a blank grid
    const differing = image.voxels.reduce((count, byte, i) => count + (byte === reference.voxels[i] ? 0 : 1), 0);
    expect(differing).toBe(0);
  }, 2 * SEGMENTATION_MS + 60_000);

  it('lists the series of a folder holding several, and segments the one chosen (a derived id too)', async () => {
    const withUid = tinySlices();
    const anonymous = asSeries(tinySlices(), '', 'anonymised copy');
    const body = () => folder(names([...withUid, ...anonymous].map((s) => part10(s))), {});
    const listing = await refused(body(), 422, 'multiple-series');
    const series = listing.series as { seriesUid: string; grouping: string; files: number }[];
    expect(series.map((s) => s.grouping).sort()).toEqual(['derived', 'series-instance-uid']);
    const derived = series.find((s) => s.grouping === 'derived')!.seriesUid;
    const chosenBody = folder(names([...withUid, ...anonymous].map((s) => part10(s))), { seriesUid: derived });
    const chosen = await accepted(chosenBody);
    expect(chosen.dicom).toMatchObject({ seriesUid: derived, grouping: 'derived', seriesInUpload: 2, files: 3 });
    await discard(chosen.id);
    await refused(folder(names(withUid.map((s) => part10(s))), { seriesUid: newUid() }), 422, 'unknown-series');
  });

  it('refuses a gantry-tilted series with a 422 naming the tilt', async () => {
    const problem = await refused(folder(names(tilted(tinySlices(), 15).map((s) => part10(s)))), 422, 'gantry-tilt');
    expect(problem.detail).toContain('Gantry/Detector Tilt 15°');
    expect(problem.shearDegrees).toBeCloseTo(15, 1);
  });

  it('refuses pixels in a transfer syntax it cannot decode with a 415 naming it', async () => {
    const problem = await refused(folder(names(tinySlices().map((s) => unsupportedSyntaxFile(s)))), 415, 'unsupported-transfer-syntax');
    expect(problem.detail).toContain('High-Throughput JPEG 2000 Lossless');
    expect(problem.transferSyntaxUid).toBe(SYNTAX.htj2k);
  });

  it('refuses a folder with no DICOM image, and a volume file mixed with DICOM files', async () => {
    await refused(folder([{ bytes: Buffer.from('a'), name: 'a.txt' }, { bytes: Buffer.from('b'), name: 'b' }]), 422, 'no-dicom-files');
    const mixed = await refused(folder([{ bytes: part10(tinySlices()[0]), name: 'IM0' }, { bytes: Buffer.from('x'), name: 'scan.nii.gz' }]), 400, 'invalid-request');
    expect(mixed.detail).toContain('scan.nii.gz');
  });
});
