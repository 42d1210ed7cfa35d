import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { type Geometry, indexToPhysical } from '@lumen/volumes';

const { DicomMessage, DicomMetaDictionary, BitArray } = dcmjs.data;
// dcmjs logs what it tolerates while reading (implicit-VR US/SS attributes) at error level.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

/** A DICOM file parsed with dcmjs (pixels included), naturalised. */
export function parseDicom(bytes: Uint8Array): NaturalDataset {
  const file = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const dataset = DicomMetaDictionary.naturalizeDataset(file.dict);
  dataset._meta = DicomMetaDictionary.namifyDataset(file.meta);
  return dataset;
}

/** A (possibly single-item) sequence as an array. */
export const items = (value: unknown): NaturalDataset[] => ([] as NaturalDataset[]).concat((value as NaturalDataset | NaturalDataset[] | undefined) ?? []);

/** The packed 1-bit Pixel Data of a binary SEG, one byte per pixel (0 or 1), all frames. */
export function segPixels(seg: NaturalDataset): Uint8Array {
  const packed = new Uint8Array(items(seg.PixelData)[0] as unknown as ArrayBuffer);
  const frames = Number(seg.NumberOfFrames);
  return BitArray.unpack(packed).subarray(0, frames * Number(seg.Rows) * Number(seg.Columns)).map((v) => (v ? 1 : 0));
}

/**
 * Rebuilds a label map on `geometry` from a binary SEG read back with dcmjs: each frame goes to
 * the slice at its Image Position (Patient), with the value `labelOf` gives its segment.
 */
export function segToLabelMap(seg: NaturalDataset, geometry: Geometry, labelOf: (segment: NaturalDataset) => number): Uint8Array {
  const [nx, ny, nz] = geometry.size;
  const out = new Uint8Array(nx * ny * nz);
  const pixels = segPixels(seg);
  const segments = new Map(items(seg.SegmentSequence).map((s) => [Number(s.SegmentNumber), labelOf(s)]));
  const slicePositions = Array.from({ length: nz }, (_, k) => indexToPhysical(geometry, 0, 0, k));
  items(seg.PerFrameFunctionalGroupsSequence).forEach((frame, f) => {
    const position = (items(frame.PlanePositionSequence)[0].ImagePositionPatient as number[]).map(Number);
    const k = slicePositions.findIndex((p) => Math.hypot(p[0] - position[0], p[1] - position[1], p[2] - position[2]) < 1e-2);
    if (k < 0) throw new Error(`frame ${f + 1} at ${position.join(', ')} lies on no slice`);
    const label = segments.get(Number(items(frame.SegmentIdentificationSequence)[0].ReferencedSegmentNumber))!;
    for (let i = 0; i < nx * ny; i++) if (pixels[f * nx * ny + i]) out[k * nx * ny + i] = label;
  });
  return out;
}

/**
 * Runs dciodvfy (Debian package dicom3tools) on a DICOM object and returns its error lines.
 * The tool is required, never skipped: `npm test`'s pretest installs it (scripts/ensure-test-tools.mjs).
 */
export function dciodvfyErrors(bytes: Uint8Array): { errors: string[]; output: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-seg-')), 'seg.dcm');
  fs.writeFileSync(file, bytes);
  try {
    // dciodvfy reports on stderr, one line per finding ("Error - …", "Warning - …").
    const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new Error('dciodvfy is missing: install Debian dicom3tools (apt-get install dicom3tools); npm test does it when run as root');
    }
    const output = `${run.stdout}${run.stderr}`;
    return { errors: output.split('\n').filter((line) => /^Error/.test(line)), output };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/**
 * A CT volume (e.g. the shared NIfTI test CT) as a series of single-frame CT Image Storage files
 * written with dcmjs: one file per slice k, Image Position (Patient) and Orientation from the
 * volume's grid (LPS), signed 16-bit HU, fresh UIDs. Returns the files and the UIDs used.
 */
export function volumeToDicomSeries(volume: Geometry & { data: ArrayLike<number> }): { files: Uint8Array[]; study: string; series: string; frameOfReference: string; instances: string[] } {
  const [nx, ny, nz] = volume.size;
  const d = volume.direction;
  const uid = () => DicomMetaDictionary.uid();
  const study = uid();
  const series = uid();
  const frameOfReference = uid();
  const instances: string[] = [];
  const files = Array.from({ length: nz }, (_, k) => {
    const pixels = new Int16Array(nx * ny);
    for (let i = 0; i < nx * ny; i++) pixels[i] = volume.data[k * nx * ny + i];
    const sop = uid();
    instances.push(sop);
    const dataset: NaturalDataset = {
      SpecificCharacterSet: 'ISO_IR 192',
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      SOPInstanceUID: sop,
      StudyDate: '20260101',
      StudyTime: '120000',
      AccessionNumber: '',
      Modality: 'CT',
      Manufacturer: 'Lumen tests',
      ReferringPhysicianName: '',
      SeriesDescription: 'Test CT from NIfTI',
      PatientName: 'Test^Phantom',
      PatientID: 'LUMEN-TEST',
      PatientBirthDate: '',
      PatientSex: 'O',
      KVP: '120',
      SliceThickness: String(volume.spacing[2]),
      StudyInstanceUID: study,
      SeriesInstanceUID: series,
      StudyID: '1',
      SeriesNumber: '1',
      PatientPosition: 'HFS',
      AcquisitionNumber: '1',
      InstanceNumber: String(k + 1),
      ImagePositionPatient: indexToPhysical(volume, 0, 0, k).map((v) => Number(v.toFixed(4))),
      ImageOrientationPatient: [d[0], d[3], d[6], d[1], d[4], d[7]].map((v) => (v === 0 ? 0 : v)),
      FrameOfReferenceUID: frameOfReference,
      PositionReferenceIndicator: '',
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: ny,
      Columns: nx,
      PixelSpacing: [volume.spacing[1], volume.spacing[0]],
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 1,
      RescaleIntercept: '0',
      RescaleSlope: '1',
      RescaleType: 'HU',
      WindowCenter: '40',
      WindowWidth: '400',
      PixelData: pixels.buffer,
      _vrMap: { PixelData: 'OW' },
      _meta: { TransferSyntaxUID: { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] } },
    };
    return new Uint8Array(dcmjs.data.datasetToDict(dataset).write());
  });
  return { files, study, series, frameOfReference, instances };
}
