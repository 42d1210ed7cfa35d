/**
 * DICOM fixtures built in the tests with dcmjs, from the real tiny CT series in shared/data
 * (16×16 slices, explicit VR little endian): anonymised exports, files without preamble or meta,
 * localisers, tilted gantries, enhanced multi-frame CT, RLE and JPEG baseline pixel data.
 */
import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import sharp from 'sharp';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjs.data;

export const TINY_SERIES_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'ct', 'tiny_dicom_series');
/** The three evenly spaced slices of the tiny series (its first file lies 200 mm away). */
export const TINY_EVEN_SLICES = ['7136', '7166', '7196'];

export const SYNTAX = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegLossless: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpeg2000: '1.2.840.10008.1.2.4.90',
  rle: '1.2.840.10008.1.2.5',
  htj2k: '1.2.840.10008.1.2.4.201',
};

/** A dataset as dcmjs naturalises it (tag keywords → values); PixelData is [ArrayBuffer, ...frames]. */
export type Dataset = Record<string, unknown> & { PixelData?: ArrayBuffer[] };

export function readDataset(file: string): Dataset {
  const bytes = fs.readFileSync(file);
  const dicom = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  // Private tags (GE's here) are left out: dcmjs cannot name them when writing.
  const tags = Object.fromEntries(Object.entries(dicom.dict).filter(([tag]) => Number.parseInt(tag.slice(0, 4), 16) % 2 === 0));
  return DicomMetaDictionary.naturalizeDataset(tags) as Dataset;
}

/** The tiny series' three even slices, naturalised (fresh copies each call). */
export function tinySlices(): Dataset[] {
  return TINY_EVEN_SLICES.map((name) => readDataset(path.join(TINY_SERIES_DIR, name)));
}

/** Writes a dataset as a Part-10 file (preamble, "DICM", meta group) in the given transfer syntax. */
export function part10(dataset: Dataset, transferSyntaxUid = SYNTAX.explicit): Buffer {
  const sopInstanceUid = String(dataset.SOPInstanceUID ?? '') || DicomMetaDictionary.uid();
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: transferSyntaxUid,
    ImplementationClassUID: '1.2.826.0.1.3680043.10.1494.2',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  const rest = Object.fromEntries(Object.entries(dataset).filter(([key, value]) => key !== '_vrMap' && value !== undefined));
  dict.dict = DicomMetaDictionary.denaturalizeDataset({ ...rest, _vrMap: { PixelData: dataset.BitsAllocated === 8 ? 'OB' : 'OW' } });
  return Buffer.from(dict.write({ fragmentMultiframe: false }));
}

/** The file without its 128-byte preamble and "DICM" (starts with the meta group). */
export function withoutPreamble(file: Buffer): Buffer {
  return file.subarray(132);
}

/** The bare dataset: no preamble, no meta group (explicit VR little endian as written). */
export function withoutMeta(file: Buffer): Buffer {
  const groupLength = file.readUInt32LE(132 + 8);
  return file.subarray(132 + 12 + groupLength);
}

/** What an anonymiser that blanks UIDs leaves: empty Study, Series and SOP Instance UIDs. */
export function blankUids(dataset: Dataset): Dataset {
  return { ...dataset, StudyInstanceUID: '', SeriesInstanceUID: '', SOPInstanceUID: '' };
}

/** A scout of the series: LOCALIZER image type, coronal orientation, same Series UID. */
export function localizer(dataset: Dataset, flagged = true): Dataset {
  return {
    ...dataset,
    SOPInstanceUID: DicomMetaDictionary.uid(),
    ImageType: flagged ? ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] : ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    ImageOrientationPatient: [1, 0, 0, 0, 0, -1],
    ImagePositionPatient: [-125, 0, 110],
  };
}

/** The same slices as another series (new Series UID and SOP Instance UIDs). */
export function asSeries(slices: Dataset[], seriesUid: string, description: string): Dataset[] {
  return slices.map((s) => ({ ...s, SeriesInstanceUID: seriesUid, SeriesDescription: description, SOPInstanceUID: DicomMetaDictionary.uid() }));
}

const positionOf = (s: Dataset) => (s.ImagePositionPatient as number[]).map(Number);

/** Slices of a gantry tilted by `degrees`: each slice shifted along y by its z offset × tan(tilt). */
export function tilted(slices: Dataset[], degrees: number): Dataset[] {
  const z0 = positionOf(slices[0])[2];
  return slices.map((s) => {
    const [x, y, z] = positionOf(s);
    return { ...s, GantryDetectorTilt: degrees, ImagePositionPatient: [x, y + (z - z0) * Math.tan((degrees * Math.PI) / 180), z] };
  });
}

/** The slices rotated into a sagittal orientation (rows along -y... ) to test the grid the tags give. */
export function sagittal(slices: Dataset[]): Dataset[] {
  return slices.map((s, i) => ({ ...s, ImageOrientationPatient: [0, 1, 0, 0, 0, -1], ImagePositionPatient: [10 + 1.25 * i, -100, 50] }));
}

/** One Enhanced CT Image (multi-frame) holding the slices as frames, geometry in functional groups. */
export function enhancedCt(slices: Dataset[]): Dataset {
  const [first] = slices;
  const frames = slices.map((s) => new Uint8Array(s.PixelData![0]));
  const pixels = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((offset, f) => (pixels.set(f, offset), offset + f.length), 0);
  return {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2.1',
    SOPInstanceUID: DicomMetaDictionary.uid(),
    StudyInstanceUID: first.StudyInstanceUID,
    SeriesInstanceUID: DicomMetaDictionary.uid(),
    FrameOfReferenceUID: first.FrameOfReferenceUID,
    Modality: 'CT',
    SeriesDescription: 'enhanced',
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL', 'NONE'],
    PatientName: 'Phantom',
    PatientID: 'phantom',
    Rows: first.Rows,
    Columns: first.Columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: first.BitsStored,
    HighBit: first.HighBit,
    PixelRepresentation: first.PixelRepresentation,
    NumberOfFrames: slices.length,
    SharedFunctionalGroupsSequence: [
      {
        PixelMeasuresSequence: [{ PixelSpacing: first.PixelSpacing, SliceThickness: first.SliceThickness }],
        PlaneOrientationSequence: [{ ImageOrientationPatient: first.ImageOrientationPatient }],
        PixelValueTransformationSequence: [{ RescaleIntercept: first.RescaleIntercept, RescaleSlope: first.RescaleSlope, RescaleType: 'HU' }],
      },
    ],
    PerFrameFunctionalGroupsSequence: slices.map((s, i) => ({ PlanePositionSequence: [{ ImagePositionPatient: s.ImagePositionPatient }], FrameContentSequence: [{ InStackPositionNumber: i + 1 }] })),
    PixelData: [pixels.buffer],
  };
}

/** PackBits, row by row, as DICOM RLE (PS3.5 Annex G) wants each segment encoded. */
function packBits(bytes: Uint8Array, rowLength: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < bytes.length; row += rowLength) {
    const line = bytes.subarray(row, row + rowLength);
    let i = 0;
    while (i < line.length) {
      let run = 1;
      while (i + run < line.length && run < 128 && line[i + run] === line[i]) run++;
      if (run >= 3) {
        out.push(257 - run, line[i]);
        i += run;
        continue;
      }
      let literal = 0;
      while (i + literal < line.length && literal < 128 && !(i + literal + 2 < line.length && line[i + literal] === line[i + literal + 1] && line[i + literal] === line[i + literal + 2])) literal++;
      out.push(literal - 1, ...line.subarray(i, i + literal));
      i += literal;
    }
  }
  return out;
}

/** One 16-bit little-endian frame as an RLE Lossless fragment: a segment of high bytes, one of low bytes. */
function rleFrame(frame: ArrayBuffer, columns: number): ArrayBuffer {
  const words = new Uint8Array(frame);
  const high = new Uint8Array(words.length / 2);
  const low = new Uint8Array(words.length / 2);
  for (let i = 0; i < high.length; i++) {
    low[i] = words[2 * i];
    high[i] = words[2 * i + 1];
  }
  const segments = [high, low].map((s) => {
    const packed = packBits(s, columns);
    if (packed.length % 2) packed.push(0);
    return packed;
  });
  const header = new Uint32Array(16);
  header[0] = segments.length;
  header[1] = 64;
  header[2] = 64 + segments[0].length;
  const out = new Uint8Array(64 + segments[0].length + segments[1].length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(segments[0], 64);
  out.set(segments[1], 64 + segments[0].length);
  return out.buffer;
}

/** The slice written as RLE Lossless (a real encoding, decoded by the worker voxel for voxel). */
export function rleFile(dataset: Dataset): Buffer {
  const frames = dataset.PixelData!.map((f) => rleFrame(f, Number(dataset.Columns)));
  return part10({ ...dataset, PixelData: frames }, SYNTAX.rle);
}

/**
 * The slice as JPEG Baseline (8-bit, lossy, made by sharp): stored values windowed to 0..255,
 * Rescale Slope/Intercept set so that HU come back within one grey step.
 */
export async function jpegBaselineFile(dataset: Dataset, window: [number, number] = [-1024, 3071]): Promise<Buffer> {
  const words = new Int16Array(dataset.PixelData![0]);
  const slope = Number(dataset.RescaleSlope ?? 1);
  const intercept = Number(dataset.RescaleIntercept ?? 0);
  const [lo, hi] = window;
  const step = (hi - lo) / 255;
  const grey = Uint8Array.from(words, (v) => Math.max(0, Math.min(255, Math.round((v * slope + intercept - lo) / step))));
  const jpeg = await sharp(Buffer.from(grey.buffer), { raw: { width: Number(dataset.Columns), height: Number(dataset.Rows), channels: 1 } }).toColourspace('b-w').jpeg({ quality: 100 }).toBuffer();
  return part10(
    {
      ...dataset,
      BitsAllocated: 8,
      BitsStored: 8,
      HighBit: 7,
      PixelRepresentation: 0,
      RescaleSlope: step,
      RescaleIntercept: lo,
      PixelPaddingValue: undefined,
      PixelData: [jpeg.buffer.slice(jpeg.byteOffset, jpeg.byteOffset + jpeg.byteLength) as ArrayBuffer],
    },
    SYNTAX.jpegBaseline,
  );
}

/** The slice claiming a transfer syntax Lumen cannot decode (the fragment is the raw pixels). */
export function unsupportedSyntaxFile(dataset: Dataset, uid = SYNTAX.htj2k): Buffer {
  return part10(dataset, uid);
}

/** Slice `k` of a synthetic CT series (rows × columns int16, HU = stored − 1024), built from nothing. */
export function syntheticSlice(k: number, series: { rows: number; columns: number; studyUid: string; seriesUid: string; frameOfReferenceUid: string; spacingMm: number }): Buffer {
  const pixels = new Int16Array(series.rows * series.columns);
  for (let i = 0; i < pixels.length; i++) pixels[i] = 1024 + ((i * 31 + k * 17) % 400) - 200;
  return part10({
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    SOPInstanceUID: DicomMetaDictionary.uid(),
    StudyInstanceUID: series.studyUid,
    SeriesInstanceUID: series.seriesUid,
    FrameOfReferenceUID: series.frameOfReferenceUid,
    Modality: 'CT',
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    PatientName: 'Synthetic',
    PatientID: 'synthetic',
    InstanceNumber: k + 1,
    ImagePositionPatient: [-125, -125, k * series.spacingMm],
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    PixelSpacing: [0.7, 0.7],
    SliceThickness: series.spacingMm,
    Rows: series.rows,
    Columns: series.columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    RescaleIntercept: -1024,
    RescaleSlope: 1,
    PixelData: [pixels.buffer],
  });
}

export function newUid(): string {
  return DicomMetaDictionary.uid();
}
