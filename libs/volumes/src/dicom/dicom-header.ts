import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { VolumeError } from '../volume-error.js';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjs.data;

const IMPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const PIXEL_DATA = '7FE00010';

/**
 * How a file holds its dataset: a Part-10 file (128-byte preamble, "DICM", meta group), a
 * Part-10 file whose preamble was stripped (starts with the meta group), or a bare dataset
 * without any meta group (what some exporters write; implicit or explicit VR little endian).
 */
export enum DicomEncoding {
  Part10 = 'part10',
  NoPreamble = 'part10-no-preamble',
  RawDataset = 'raw-dataset',
}

/** The tags of one DICOM file that series grouping and the geometry checks need (no pixels). */
export type DicomHeader = {
  file: string;
  /** The file as the client named it (zip entry or part file name), for messages. */
  name: string;
  encoding: DicomEncoding;
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  modality: string;
  description: string;
  imageType: string[];
  rows: number;
  columns: number;
  /** Row spacing then column spacing (mm), as DICOM writes them. */
  pixelSpacing: number[] | null;
  /** Row direction cosines then column direction cosines. */
  orientation: number[] | null;
  /** One position per frame: the slice's (classic) or each frame's (enhanced multi-frame). */
  positions: (number[] | null)[];
  frames: number;
  gantryTilt: number;
  hasPixelData: boolean;
};

/** The first bytes the header is looked for in; grown ×8 while the header runs past them. */
const FIRST_READ_BYTES = 64 * 1024;
/** A header (enhanced multi-frame functional groups included) larger than this is refused as not DICOM. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));

/** How `head` is encoded, from its first bytes; null when it is not DICOM at all. */
export function sniffDicom(head: Buffer): { encoding: DicomEncoding; rawSyntax?: string } | null {
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return { encoding: DicomEncoding.Part10 };
  if (head.length < 8) return null;
  const group = head.readUInt16LE(0);
  const vr = head.toString('latin1', 4, 6);
  if (group === 0x0002 && VRS.has(vr)) return { encoding: DicomEncoding.NoPreamble };
  // A bare dataset starts with a low group (0008 identifying, sometimes 0010/0018/0020/0028).
  if (![0x0008, 0x0010, 0x0018, 0x0020, 0x0028].includes(group)) return null;
  if (VRS.has(vr)) return { encoding: DicomEncoding.RawDataset, rawSyntax: EXPLICIT_LITTLE_ENDIAN };
  const length = head.readUInt32LE(4);
  return length < 1 << 20 ? { encoding: DicomEncoding.RawDataset, rawSyntax: IMPLICIT_LITTLE_ENDIAN } : null;
}

/** A Part-10 preamble and meta group to put before a file that lacks them. */
export function part10Prefix(encoding: DicomEncoding, meta: { transferSyntaxUid: string; sopClassUid: string; sopInstanceUid: string }): Buffer {
  if (encoding === DicomEncoding.Part10) return Buffer.alloc(0);
  if (encoding === DicomEncoding.NoPreamble) return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')]);
  const dict = new DicomDict(
    DicomMetaDictionary.denaturalizeDataset({
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: meta.sopClassUid,
      MediaStorageSOPInstanceUID: meta.sopInstanceUid,
      TransferSyntaxUID: meta.transferSyntaxUid,
      ImplementationClassUID: '1.2.826.0.1.3680043.10.1494.1',
      ImplementationVersionName: 'LUMEN',
    }),
  );
  dict.dict = {};
  return Buffer.from(dict.write());
}

const numbers = (value: unknown): number[] | null => {
  const list = (Array.isArray(value) ? value : value === undefined || value === null || value === '' ? [] : [value]).map(Number);
  return list.length && list.every(Number.isFinite) ? list : null;
};
const text = (value: unknown): string => (Array.isArray(value) ? value.join('\\') : value === undefined || value === null ? '' : String(value)).trim();
const item = (sequence: unknown): Record<string, unknown> | undefined => (Array.isArray(sequence) ? sequence[0] : undefined) as Record<string, unknown> | undefined;

/** A file's dataset before Pixel Data, naturalised, with its meta group under `_meta`. */
type HeadDataset = { encoding: DicomEncoding; dataset: NaturalDataset; complete: boolean };

/** The bytes' dataset up to Pixel Data; `complete` when Pixel Data was reached (the whole header read). */
function parse(bytes: Buffer): { dataset: NaturalDataset; complete: boolean } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const dicom = DicomMessage.readFile(buffer, { untilTag: PIXEL_DATA, includeUntilTagValue: false });
  const complete = PIXEL_DATA in dicom.dict;
  const { [PIXEL_DATA]: _pixels, ...tags } = dicom.dict;
  const dataset = DicomMetaDictionary.naturalizeDataset(tags);
  // As dcmjs keeps it on naturalised datasets (datasetToDict reads it): keywords → { vr, Value }.
  dataset._meta = DicomMetaDictionary.namifyDataset(dicom.meta);
  return { dataset, complete };
}

/**
 * Reads a file's dataset up to the pixel data, never the pixels: the first 64 KiB, more only
 * while the header runs past them. Null when the file is not DICOM (no DICOM signature). A file
 * that starts like DICOM but whose header does not parse, even read whole, is a 422
 * `unreadable-dicom-file` naming it (`name`) and the parser's reason: never silently skipped.
 * Files without preamble or without any meta group are read too.
 */
async function readHeadDataset(file: string, name: string): Promise<HeadDataset | null> {
  const size = (await fs.promises.stat(file)).size;
  let bytes = Math.min(size, FIRST_READ_BYTES);
  let head = await readHead(file, bytes);
  const sniffed = sniffDicom(head);
  if (!sniffed) return null;
  const prefix = part10Prefix(sniffed.encoding, { transferSyntaxUid: sniffed.rawSyntax ?? '', sopClassUid: '', sopInstanceUid: '' });
  for (;;) {
    const whole = bytes >= size;
    try {
      const { dataset, complete } = parse(Buffer.concat([prefix, head]));
      if (complete || whole) return { encoding: sniffed.encoding, dataset, complete };
    } catch (error) {
      // Cut short by the read: parsed again with more bytes. Read whole: the file is broken.
      if (whole) throw unreadable(name, `its header does not parse (${String((error as Error)?.message ?? error).slice(0, 200)})`);
    }
    if (bytes >= MAX_HEADER_BYTES) throw unreadable(name, `its header runs past ${MAX_HEADER_BYTES} bytes without reaching the pixel data`);
    bytes = Math.min(size, bytes * 8, MAX_HEADER_BYTES);
    head = await readHead(file, bytes);
  }
}

function unreadable(name: string, reason: string): VolumeError {
  return new VolumeError('volume.unreadable-dicom-file', `"${name}" starts like a DICOM file but ${reason}`, { file: name });
}

/**
 * A file's DICOM dataset without the pixels, naturalised (dcmjs keywords → values; the meta group
 * under `_meta`, namified), for writers that copy attributes from it (the DICOM SEG output). Reads only the
 * header bytes (readHeadDataset). Null when the file is not DICOM or its header ends before the
 * pixel data (truncated).
 */
export async function readDicomDataset(file: string, name = path.basename(file)): Promise<NaturalDataset | null> {
  const read = await readHeadDataset(file, name);
  return read?.complete ? read.dataset : null;
}

/** The header fields series grouping and the geometry checks use, from a naturalised dataset. */
function headerOf(ds: NaturalDataset, complete: boolean): Omit<DicomHeader, 'file' | 'name' | 'encoding'> {
  const shared = item(ds.SharedFunctionalGroupsSequence) ?? {};
  const perFrame = Array.isArray(ds.PerFrameFunctionalGroupsSequence) ? (ds.PerFrameFunctionalGroupsSequence as Record<string, unknown>[]) : [];
  const frames = Math.max(1, Number(text(ds.NumberOfFrames)) || 1);
  // Enhanced multi-frame: geometry lives in the shared or per-frame functional groups.
  const group = (frame: Record<string, unknown> | undefined, name: string) => item(frame?.[name]) ?? item(shared[name]);
  const orientation = numbers(ds.ImageOrientationPatient) ?? numbers(group(perFrame[0], 'PlaneOrientationSequence')?.ImageOrientationPatient);
  const pixelSpacing = numbers(ds.PixelSpacing) ?? numbers(group(perFrame[0], 'PixelMeasuresSequence')?.PixelSpacing);
  const positions = perFrame.length
    ? perFrame.map((frame) => numbers(group(frame, 'PlanePositionSequence')?.ImagePositionPatient))
    : Array.from({ length: frames }, (_, i) => (i === 0 ? numbers(ds.ImagePositionPatient) : null));
  return {
    transferSyntaxUid: text(ds._meta?.TransferSyntaxUID?.Value),
    sopClassUid: text(ds.SOPClassUID),
    sopInstanceUid: text(ds.SOPInstanceUID),
    studyUid: text(ds.StudyInstanceUID),
    seriesUid: text(ds.SeriesInstanceUID),
    frameOfReferenceUid: text(ds.FrameOfReferenceUID),
    modality: text(ds.Modality),
    description: text(ds.SeriesDescription),
    imageType: text(ds.ImageType).split('\\').map((s) => s.trim().toUpperCase()),
    rows: Number(text(ds.Rows)) || 0,
    columns: Number(text(ds.Columns)) || 0,
    pixelSpacing,
    orientation,
    positions,
    frames,
    gantryTilt: Number(text(ds.GantryDetectorTilt)) || 0,
    hasPixelData: complete,
  };
}

/**
 * Reads a file's DICOM header up to the pixel data, never the pixels (readHeadDataset). Null when
 * the file is not DICOM; a 422 naming `name` when it starts like DICOM but its header does not
 * parse. Files without preamble or without any meta group are read too.
 */
export async function readDicomHeader(file: string, name = path.basename(file)): Promise<DicomHeader | null> {
  const read = await readHeadDataset(file, name);
  return read && { file, name, encoding: read.encoding, ...headerOf(read.dataset, read.complete) };
}

/**
 * Rewrites a file that lacks the Part-10 preamble or meta group as a Part-10 file (streamed:
 * the prefix, then the file's bytes), so the worker's reader accepts it.
 */
export async function rewriteAsPart10(header: DicomHeader): Promise<void> {
  if (header.encoding === DicomEncoding.Part10) return;
  const prefix = part10Prefix(header.encoding, { transferSyntaxUid: header.transferSyntaxUid, sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid });
  const target = `${header.file}.part10`;
  const out = fs.createWriteStream(target, { mode: 0o600 });
  out.write(prefix);
  await pipeline(fs.createReadStream(header.file), out);
  await fs.promises.rename(target, header.file);
}
