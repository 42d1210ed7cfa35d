import fs from 'node:fs';
import os from 'node:os';
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
  sagittal,
  tilted,
  tinySlices,
  unsupportedSyntaxFile,
  withoutMeta,
  withoutPreamble,
} from '../../../../test/support/dicom-fixtures.js';
import { gridDifferences } from '../geometry.js';
import { readDicomSeries } from '../volume-io.js';
import { VolumeError } from '../volume-error.js';
import { extractZip } from '../zip-extract.js';
import { DicomEncoding, readDicomHeader } from './dicom-header.js';
import { intakeDicomFiles } from './dicom-intake.js';
import { DropReason, IgnoreReason, SeriesGrouping, chooseSeries, groupDicomSeries, seriesGeometry } from './dicom-series.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-dicom-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes buffers as files named 0, 1, 2... (no extension: names mean nothing). */
function write(buffers: Buffer[], prefix = ''): string[] {
  return buffers.map((bytes, i) => {
    const file = path.join(dir, `${prefix}${i}`);
    fs.writeFileSync(file, bytes);
    return file;
  });
}

/** The files of an upload as intake gets them: stored path and the client's name (here slice-N.dcm). */
function upload(buffers: Buffer[]): { path: string; name: string }[] {
  return write(buffers, 'up-').map((file, i) => ({ path: file, name: `slice-${i}.dcm` }));
}

/** A Part-10 file cut just before its Pixel Data element: a complete header, no pixels. */
function cutBeforePixels(bytes: Buffer): Buffer {
  return bytes.subarray(0, bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00])));
}

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<VolumeError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof VolumeError) return error;
    throw error;
  }
  throw new Error('expected a VolumeError');
}

const MAX_VOXELS = 1e8;
const original = async () => readDicomSeries(write(tinySlices().map((s) => part10(s)), 'original-'), MAX_VOXELS);

describe('DICOM headers', () => {
  it('reads Part-10 files with and without preamble, bare datasets, and refuses what is not DICOM', async () => {
    const file = part10(tinySlices()[0]);
    const [full, noPreamble, raw, text] = write([file, withoutPreamble(file), withoutMeta(file), Buffer.from('not a DICOM file at all, just words')]);
    const headers = await Promise.all([full, noPreamble, raw].map((f) => readDicomHeader(f)));
    expect(headers.map((h) => h?.encoding)).toEqual([DicomEncoding.Part10, DicomEncoding.NoPreamble, DicomEncoding.RawDataset]);
    for (const h of headers) {
      expect(h).toMatchObject({ rows: 16, columns: 16, frames: 1, hasPixelData: true, seriesUid: '1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2', transferSyntaxUid: SYNTAX.explicit });
      expect(h!.positions[0]![2]).toBeCloseTo(103.02, 2);
    }
    expect(await readDicomHeader(text)).toBeNull();
  });

  it('reads an enhanced multi-frame CT: one position per frame from the functional groups', async () => {
    const [file] = write([part10(enhancedCt(tinySlices()))]);
    const header = (await readDicomHeader(file))!;
    expect(header.frames).toBe(3);
    expect(header.positions.map((p) => Number(p![2].toFixed(2)))).toEqual([103.02, 104.27, 105.52]);
    expect(header.orientation).toEqual([1, 0, 0, 0, 1, 0]);
    expect(header.pixelSpacing).toEqual([0.488281, 0.488281]);
  });
});

describe('DICOM series grouping', () => {
  const headersOf = async (datasets: Record<string, unknown>[]) => Promise.all(write(datasets.map((d) => part10(d))).map((f) => readDicomHeader(f)));

  it('groups files without SeriesInstanceUID by the fallback key, and says so', async () => {
    const { series } = groupDicomSeries(await headersOf(tinySlices().map(blankUids)));
    expect(series).toHaveLength(1);
    expect(series[0].seriesUid).toMatch(/^derived-[0-9a-f]{16}$/);
    expect(series[0].grouping).toBe(SeriesGrouping.Derived);
    expect(series[0].key).toEqual({
      studyInstanceUid: '',
      frameOfReferenceUid: '1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.4',
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      rows: 16,
      columns: 16,
      pixelSpacing: [0.4883, 0.4883],
    });
  });

  it('drops localisers (flagged, or in another orientation) and lone images, reporting each', async () => {
    const slices = tinySlices();
    const { series, dropped } = groupDicomSeries(await headersOf([...slices, localizer(slices[0]), localizer(slices[1], false)]));
    expect(series).toHaveLength(1);
    expect(series[0].headers).toHaveLength(3);
    expect(dropped.map((d) => [d.reason, d.files])).toEqual([[DropReason.Localizer, 1], [DropReason.OtherOrientation, 1]]);
    // Without UIDs the scout forms a group of its own: dropped as a lone image beside the series.
    const anonymous = groupDicomSeries(await headersOf([...slices, localizer(slices[0], false)].map(blankUids)));
    expect(anonymous.series).toHaveLength(1);
    expect(anonymous.dropped.map((d) => d.reason)).toEqual([DropReason.LoneImage]);
  });

  it('lists several series and picks the one asked for', async () => {
    const other = newUid();
    const { series } = groupDicomSeries(await headersOf([...tinySlices(), ...asSeries(tinySlices(), other, 'copy')]));
    const listed = await refusal(() => chooseSeries(series));
    expect(listed.code).toBe('volume.multiple-series');
    expect((listed.details.series as { seriesUid: string }[]).map((s) => s.seriesUid)).toContain(other);
    expect(chooseSeries(series, other).description).toBe('copy');
    expect((await refusal(() => chooseSeries(series, '1.2.3'))).code).toBe('volume.unknown-series');
  });

  it('refuses a gantry-tilted series, naming the tilt', async () => {
    const { series } = groupDicomSeries(await headersOf(tilted(tinySlices(), 20)));
    const error = await refusal(() => seriesGeometry(series[0], MAX_VOXELS));
    expect(error.code).toBe('volume.gantry-tilt');
    expect(error.details.shearDegrees).toBeCloseTo(20, 1);
    expect(error.message).toContain('Gantry/Detector Tilt 20°');
  });

  it('gives from the tags alone the grid the pixel reader gives (axial and sagittal)', async () => {
    for (const slices of [tinySlices(), sagittal(tinySlices())]) {
      const files = write(slices.map((s) => part10(s)), `${slices[0].ImageOrientationPatient}-`);
      const { series } = groupDicomSeries(await Promise.all(files.map((f) => readDicomHeader(f))));
      const { geometry } = seriesGeometry(series[0], MAX_VOXELS);
      expect(gridDifferences(await readDicomSeries(files, MAX_VOXELS), geometry)).toEqual([]);
    }
  });
});

describe('DICOM intake (API) then read (worker)', () => {
  it('reads an anonymised export without preamble or meta, mixed with a localiser and a non-DICOM file', async () => {
    const slices = tinySlices().map(blankUids);
    const files = [part10(slices[0]), withoutPreamble(part10(slices[1])), withoutMeta(part10(slices[2])), part10(localizer(slices[0])), Buffer.from('DICOMDIR? no: notes')];
    const intake = await intakeDicomFiles(upload(files), { maxVoxels: MAX_VOXELS });
    expect(intake.report).toMatchObject({ grouping: SeriesGrouping.Derived, slices: 3, files: 3, ignoredFiles: 1, dropped: [{ reason: DropReason.Localizer, files: 1 }] });
    expect(intake.report.ignored).toEqual([{ reason: IgnoreReason.NotDicom, files: 1, examples: ['slice-4.dcm'] }]);
    expect(fs.readdirSync(dir)).toHaveLength(3); // the localiser and the note are gone
    const volume = await readDicomSeries(intake.files, MAX_VOXELS);
    expect(Array.from(volume.data)).toEqual(Array.from((await original()).data));
  });

  it('decodes RLE Lossless voxel for voxel', async () => {
    const intake = await intakeDicomFiles(upload(tinySlices().map(rleFile)), { maxVoxels: MAX_VOXELS });
    expect(intake.report.transferSyntax).toEqual({ uid: SYNTAX.rle, name: 'RLE Lossless' });
    expect(Array.from((await readDicomSeries(intake.files, MAX_VOXELS)).data)).toEqual(Array.from((await original()).data));
  });

  it('decodes JPEG Baseline (8-bit, lossy) within a few grey steps', async () => {
    const files = upload(await Promise.all(tinySlices().map((s) => jpegBaselineFile(s, [-200, 1000]))));
    const intake = await intakeDicomFiles(files, { maxVoxels: MAX_VOXELS });
    expect(intake.report.transferSyntax.name).toBe('JPEG Baseline (Process 1)');
    const volume = await readDicomSeries(intake.files, MAX_VOXELS);
    const reference = await original();
    const step = 1200 / 255;
    const clamp = (v: number) => Math.max(-200, Math.min(1000, v));
    const worst = Math.max(...Array.from(volume.data, (v, i) => Math.abs(v - clamp(reference.data[i]))));
    expect(worst).toBeLessThan(6 * step);
  });

  it('reads an enhanced multi-frame CT voxel for voxel', async () => {
    const intake = await intakeDicomFiles(upload([part10(enhancedCt(tinySlices()))]), { maxVoxels: MAX_VOXELS });
    expect(intake.report).toMatchObject({ multiFrame: true, files: 1, slices: 3 });
    expect(intake.geometry.size).toEqual([16, 16, 3]);
    expect(Array.from((await readDicomSeries(intake.files, MAX_VOXELS)).data)).toEqual(Array.from((await original()).data));
  });

  it('refuses a transfer syntax it cannot decode, naming it', async () => {
    const error = await refusal(intakeDicomFiles(upload(tinySlices().map((s) => unsupportedSyntaxFile(s))), { maxVoxels: MAX_VOXELS }));
    expect(error.code).toBe('volume.unsupported-transfer-syntax');
    expect(error.message).toContain('High-Throughput JPEG 2000 Lossless (1.2.840.10008.1.2.4.201)');
  });

  it('refuses a series over the voxel limit from its tags', async () => {
    const error = await refusal(intakeDicomFiles(upload(tinySlices().map((s) => part10(s))), { maxVoxels: 700 }));
    expect(error.code).toBe('volume.too-large');
    expect(error.details).toEqual({ voxels: 768, maxVoxels: 700 });
  });
});

/** A copy of a dataset without the given attributes. */
function without<T extends object>(dataset: T, ...keys: string[]): T {
  return Object.fromEntries(Object.entries(dataset).filter(([key]) => !keys.includes(key))) as T;
}

describe('DICOM intake: no file left out silently', () => {
  const slices = () => tinySlices().map((s) => part10(s));

  it('refuses a file that starts like DICOM but does not parse, naming it and the reason', async () => {
    const files = slices();
    files[1] = files[1].subarray(0, 150); // "DICM", then the meta group cut off
    const error = await refusal(intakeDicomFiles(upload(files), { maxVoxels: MAX_VOXELS }));
    expect(error.code).toBe('volume.unreadable-dicom-file');
    expect(error.message).toMatch(/^"slice-1\.dcm" starts like a DICOM file but its header does not parse \(.+\)/);
    expect(error.details).toEqual({ file: 'slice-1.dcm' });
  });

  it('refuses an image of the series cut before its pixels (it would vanish from the volume), naming it', async () => {
    const files = slices();
    files[2] = cutBeforePixels(files[2]);
    const error = await refusal(intakeDicomFiles(upload(files), { maxVoxels: MAX_VOXELS }));
    expect(error.code).toBe('volume.truncated-dicom-file');
    expect(error.message).toContain('"slice-2.dcm"');
    expect(error.details).toEqual({ files: ['slice-2.dcm'] });
  });

  it('reports, by reason and name, a cut image of another series and a DICOM file without an image', async () => {
    const other = asSeries(tinySlices(), newUid(), 'other');
    const noImage = without(tinySlices()[0], 'Rows', 'Columns');
    const files = [...slices(), cutBeforePixels(part10(other[0])), cutBeforePixels(part10(noImage))];
    const intake = await intakeDicomFiles(upload(files), { maxVoxels: MAX_VOXELS });
    expect(intake.report.slices).toBe(3);
    expect(intake.report.ignoredFiles).toBe(2);
    expect(intake.report.ignored).toEqual([
      { reason: IgnoreReason.NoImage, files: 1, examples: ['slice-4.dcm'] },
      { reason: IgnoreReason.IncompleteImage, files: 1, examples: ['slice-3.dcm'] },
    ]);
  });

  it('names the slices without Image Position (Patient), and refuses a series without Pixel Spacing', async () => {
    const unplaced = tinySlices().map((s, i) => (i === 1 ? without(s, 'ImagePositionPatient') : s));
    const error = await refusal(intakeDicomFiles(upload(unplaced.map((s) => part10(s))), { maxVoxels: MAX_VOXELS }));
    expect(error.code).toBe('volume.missing-slice-position');
    expect(error.message).toContain('"slice-1.dcm"');
    const unspaced = tinySlices().map((s) => without(s, 'PixelSpacing'));
    const spacing = await refusal(intakeDicomFiles(upload(unspaced.map((s) => part10(s))), { maxVoxels: MAX_VOXELS }));
    expect(spacing.code).toBe('volume.missing-pixel-spacing');
    expect(spacing.message).toContain('"slice-0.dcm"');
  });
});

describe('zip extraction', () => {
  const zipFile = (entries: Record<string, Uint8Array>) => {
    const file = path.join(dir, 'upload.zip');
    fs.writeFileSync(file, zipSync(entries));
    return file;
  };
  const limits = { maxEntries: 10, maxUncompressedBytes: 1 << 20 };

  it('streams entries to generated names, skipping folders and macOS debris', async () => {
    const files = await extractZip(zipFile({ 'a/IM0001': new Uint8Array([1, 2]), 'a/b/no-extension': new Uint8Array([3]), '__MACOSX/a/._IM0001': new Uint8Array([9]) }), path.join(dir, 'out'), limits);
    expect(files.map((f) => path.basename(f.path))).toEqual(['000000.dcm', '000001.dcm']);
    expect(files.map((f) => f.name)).toEqual(['a/IM0001', 'a/b/no-extension']);
    expect(files.map((f) => Array.from(fs.readFileSync(f.path)))).toEqual([[1, 2], [3]]);
  });

  it.each([
    ['traversal', { '../evil': new Uint8Array(1) }, 'volume.unsafe-zip-entry'],
    ['a zip disguised as a slice', { 'slice.dcm': zipSync({ a: new Uint8Array(1) }) }, 'volume.nested-archive'],
    ['more entries than allowed', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`${i}`, new Uint8Array(1)])), 'volume.too-many-zip-entries'],
    ['more bytes than allowed', { big: new Uint8Array(2 << 20) }, 'volume.zip-too-large'],
  ])('refuses %s', async (_what, entries, code) => {
    expect((await refusal(extractZip(zipFile(entries), path.join(dir, 'out'), limits))).code).toBe(code);
  });
});
