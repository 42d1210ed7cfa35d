import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NaturalDataset } from 'dcmjs';
import { type Geometry, type Volume, gridDifferences, readDicomSeries, readVolume } from '@lumen/volumes';
import { dciodvfyErrors, items, parseDicom, segPixels, segToLabelMap } from '../../../test/support/dicom-seg.js';
import { Organ, ORGAN_LABELS } from './cascade-config.js';
import { ANATOMICAL_STRUCTURE, type DicomSegSegment, DicomSegUnavailable, ORGAN_SNOMED, buildDicomSeg, readSourceHeaders } from './dicom-seg.js';

// Three CT slices, a liver label map on their grid and the SEG dcmqi made from them (QIICR's
// dcmqi test data, BSD licence: see its LICENSE).
const DCMQI = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'dicom', 'dcmqi-ct-3slice');
const SLICES = ['01.dcm', '02.dcm', '03.dcm'].map((f) => path.join(DCMQI, f));
const ALL_ORGANS: DicomSegSegment[] = Object.values(Organ).map((organ) => ({ organ, label: ORGAN_LABELS[organ] }));
const OPTIONS = { algorithmName: 'Lumen test cascade', softwareVersion: 'test' };

let sourceHeaders: NaturalDataset[];
/** The three slices' headers (fresh shallow copies each call). */
const sources = () => sourceHeaders.map((ds) => ({ ...ds }));
/** `bytes` written to a temporary file, for readSourceHeaders. */
const fileOf = (bytes: Uint8Array): string => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-seg-spec-')), 'slice.dcm');
  fs.writeFileSync(file, bytes);
  return file;
};
const shifted = (g: Geometry, mm: number): Geometry => ({ ...g, origin: [g.origin[0], g.origin[1], g.origin[2] + mm] });
const labelOfSegment = (s: NaturalDataset) => ORGAN_LABELS[String(s.SegmentLabel).toLowerCase() as Organ];
const positions = (seg: NaturalDataset) => items(seg.PerFrameFunctionalGroupsSequence).map((f) => (items(f.PlanePositionSequence)[0].ImagePositionPatient as number[]).map(Number));
const sourceRefs = (seg: NaturalDataset) =>
  items(seg.PerFrameFunctionalGroupsSequence).map((f) => items(items(f.DerivationImageSequence)[0].SourceImageSequence)[0].ReferencedSOPInstanceUID);

describe('DICOM SEG writer (dcmjs)', () => {
  let liver: Volume;
  let series: Volume;

  beforeAll(async () => {
    liver = await readVolume(path.join(DCMQI, 'liver_seg.nrrd'), 1e9);
    series = await readDicomSeries(SLICES, 1e9);
    sourceHeaders = await readSourceHeaders(SLICES);
  });

  const liverLabels = () => Uint8Array.from(liver.data, (v) => (v ? ORGAN_LABELS.liver : 0));

  it('the liver label map lies on the grid Lumen reads from the three slices', () => {
    expect(gridDifferences(series, liver)).toEqual([]);
    expect(liverLabels().some((v) => v > 0)).toBe(true);
  });

  it('matches the SEG dcmqi made for the same slices and label map: SOP class, segment, frames, positions, references and identical pixels', () => {
    const { bytes, summary } = buildDicomSeg(sources(), liverLabels(), series, ALL_ORGANS, OPTIONS);
    const ours = parseDicom(bytes);
    const dcmqi = parseDicom(new Uint8Array(fs.readFileSync(path.join(DCMQI, 'liver_seg_dcmqi.dcm'))));

    expect(ours.SOPClassUID).toBe(dcmqi.SOPClassUID);
    expect(ours._meta.TransferSyntaxUID.Value[0]).toBe('1.2.840.10008.1.2.1');
    for (const key of ['Modality', 'SegmentationType', 'Rows', 'Columns', 'BitsAllocated', 'BitsStored', 'NumberOfFrames', 'StudyInstanceUID', 'FrameOfReferenceUID', 'PatientID']) {
      expect([key, ours[key]]).toEqual([key, dcmqi[key]]);
    }
    expect(items(ours.ReferencedSeriesSequence)[0].SeriesInstanceUID).toBe(items(dcmqi.ReferencedSeriesSequence)[0].SeriesInstanceUID);
    const instances = (seg: NaturalDataset) => items(items(seg.ReferencedSeriesSequence)[0].ReferencedInstanceSequence).map((i) => i.ReferencedSOPInstanceUID).sort();
    expect(instances(ours)).toEqual(instances(dcmqi));

    // One segment, as dcmqi's, coded with today's SNOMED CT where dcmqi (2016) used retired SRT codes.
    const [segment] = items(ours.SegmentSequence);
    const [reference] = items(dcmqi.SegmentSequence);
    expect(items(ours.SegmentSequence)).toHaveLength(1);
    expect(Number(segment.SegmentNumber)).toBe(Number(reference.SegmentNumber));
    expect(segment.SegmentLabel).toBe(reference.SegmentLabel);
    expect(items(segment.SegmentedPropertyTypeCodeSequence)[0]).toMatchObject({ CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: items(reference.SegmentedPropertyTypeCodeSequence)[0].CodeMeaning });
    expect(items(reference.SegmentedPropertyTypeCodeSequence)[0]).toMatchObject({ CodeValue: 'T-62000', CodingSchemeDesignator: 'SRT' });
    expect(items(segment.SegmentedPropertyCategoryCodeSequence)[0]).toMatchObject(ANATOMICAL_STRUCTURE);
    expect(segment.SegmentAlgorithmType).toBe('AUTOMATIC');
    expect(segment.SegmentAlgorithmName).toBe(OPTIONS.algorithmName);

    // Shared geometry and the frames, in the same order: positions, source instance per frame, pixels.
    const shared = (seg: NaturalDataset) => items(seg.SharedFunctionalGroupsSequence)[0];
    expect(items(shared(ours).PlaneOrientationSequence)[0].ImageOrientationPatient.map(Number)).toEqual(items(shared(dcmqi).PlaneOrientationSequence)[0].ImageOrientationPatient.map(Number));
    expect(items(shared(ours).PixelMeasuresSequence)[0].PixelSpacing.map(Number)).toEqual(items(shared(dcmqi).PixelMeasuresSequence)[0].PixelSpacing.map(Number));
    const ourPositions = positions(ours);
    positions(dcmqi).forEach((p, f) => p.forEach((v, a) => expect(ourPositions[f][a]).toBeCloseTo(v, 3)));
    expect(sourceRefs(ours)).toEqual(sourceRefs(dcmqi));
    expect(Buffer.from(segPixels(ours)).equals(Buffer.from(segPixels(dcmqi)))).toBe(true);
    expect(summary).toMatchObject({ frames: 3, segments: [{ number: 1, organ: 'liver', label: 1, frames: 3 }] });
  });

  it('stores one segment per organ present, coded with SNOMED CT, and reads back voxel for voxel', () => {
    // Liver from dcmqi's map; spleen on slices 0 and 2 only; pancreas on slice 1 only; a stray label 7 is no organ.
    const labels = liverLabels();
    const [nx, ny] = series.size;
    for (let y = 400; y < 450; y++) {
      for (let x = 400; x < 470; x++) {
        labels[0 * nx * ny + y * nx + x] = ORGAN_LABELS.spleen;
        labels[2 * nx * ny + y * nx + x] = ORGAN_LABELS.spleen;
      }
    }
    for (let y = 40; y < 60; y++) for (let x = 20; x < 90; x++) labels[1 * nx * ny + y * nx + x] = ORGAN_LABELS.pancreas;
    labels[1 * nx * ny + 5] = 7;
    const { bytes, summary } = buildDicomSeg(sources(), labels, series, ALL_ORGANS, OPTIONS);
    const seg = parseDicom(bytes);

    expect(summary.segments.map((s) => [s.organ, s.frames])).toEqual([['liver', 3], ['spleen', 2], ['pancreas', 1]]);
    expect(Number(seg.NumberOfFrames)).toBe(6);
    const segments = items(seg.SegmentSequence);
    expect(segments.map((s) => items(s.SegmentedPropertyTypeCodeSequence)[0].CodeValue)).toEqual([ORGAN_SNOMED.liver.code, ORGAN_SNOMED.spleen.code, ORGAN_SNOMED.pancreas.code]);
    expect(segments.map((s) => items(s.SegmentedPropertyTypeCodeSequence)[0].CodeValue)).toEqual(['10200004', '78961009', '15776009']);

    const expected = labels.map((v) => (v === 7 ? 0 : v));
    const back = segToLabelMap(seg, series, labelOfSegment);
    let differing = 0;
    for (let i = 0; i < expected.length; i++) if (back[i] !== expected[i]) differing++;
    expect(differing).toBe(0);

    const source = sources()[0];
    expect(seg.StudyInstanceUID).toBe(source.StudyInstanceUID);
    expect(seg.FrameOfReferenceUID).toBe(source.FrameOfReferenceUID);
    expect(seg.SeriesInstanceUID).not.toBe(source.SeriesInstanceUID);
  });

  it('passes dciodvfy with no errors', () => {
    const labels = liverLabels();
    labels[1 * 512 * 512 + 1000] = ORGAN_LABELS.pancreas;
    const { errors, output } = dciodvfyErrors(buildDicomSeg(sources(), labels, series, ALL_ORGANS, OPTIONS).bytes);
    expect({ errors, output: errors.length ? output : '' }).toEqual({ errors: [], output: '' });
    expect(output).toMatch(/Segmentation/);
  });

  it('refuses what it cannot store: no organ, a grid off the slices, sources without UIDs, unreadable sources', async () => {
    const unavailable = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        if (error instanceof DicomSegUnavailable) return error.problem;
        throw error;
      }
      return 'built';
    };
    expect(unavailable(() => buildDicomSeg(sources(), new Uint8Array(512 * 512 * 3), series, ALL_ORGANS, OPTIONS))).toBe('no-organs-found');
    expect(unavailable(() => buildDicomSeg(sources(), liverLabels(), shifted(series, 0.5), ALL_ORGANS, OPTIONS))).toBe('source-geometry-mismatch');
    // An anonymised export: the same slices with an empty SOP Instance UID.
    const anonymised = sources().map((ds) => ({ ...ds, SOPInstanceUID: '' }));
    expect(unavailable(() => buildDicomSeg(anonymised, liverLabels(), series, ALL_ORGANS, OPTIONS))).toBe('source-uids-missing');
    const truncated = fileOf(fs.readFileSync(SLICES[0]).subarray(0, 600));
    await expect(readSourceHeaders([SLICES[0], truncated])).rejects.toMatchObject({ problem: 'source-not-readable', message: expect.stringContaining('file 2') });
    await expect(readSourceHeaders([fileOf(Buffer.from('not DICOM at all'))])).rejects.toBeInstanceOf(DicomSegUnavailable);
  });

  it('reads headers of files without the Part-10 preamble and meta header', async () => {
    const bytes = fs.readFileSync(SLICES[0]);
    const bare = bytes.subarray(132 + 12 + bytes.readUInt32LE(132 + 8));
    expect(bare.readUInt16LE(0)).toBe(0x0008);
    const [header] = await readSourceHeaders([fileOf(bare)]);
    const [reference] = sources();
    for (const key of ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID', 'FrameOfReferenceUID', 'Rows', 'Columns']) expect([key, header[key]]).toEqual([key, reference[key]]);
    expect(header.ImagePositionPatient).toEqual(reference.ImagePositionPatient);
  });
});
