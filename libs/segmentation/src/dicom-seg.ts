import dcmjs, { type NaturalDataset } from 'dcmjs';
import { type Geometry, indexToPhysical, readDicomDataset } from '@lumen/volumes';
import { Organ } from './cascade-config.js';
import { organColour } from './organ-colours.js';

const { DicomMetaDictionary, Colors, datasetToDict } = dcmjs.data;

/** SNOMED CT codes of each served organ (Segmented Property Type), as DICOM's CID 7166 lists them. */
export const ORGAN_SNOMED: Readonly<Record<Organ, { code: string; meaning: string }>> = {
  [Organ.liver]: { code: '10200004', meaning: 'Liver' },
  [Organ.spleen]: { code: '78961009', meaning: 'Spleen' },
  [Organ.pancreas]: { code: '15776009', meaning: 'Pancreas' },
};

/** Segmented Property Category of every segment: SCT 123037004 "Anatomical Structure". */
export const ANATOMICAL_STRUCTURE = { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' };

const SEGMENTATION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/**
 * Why no SEG can be made for these inputs; `problem` is the machine-readable code the API's
 * 409 carries (the job still succeeds: the label map is the primary output).
 */
export class DicomSegUnavailable extends Error {
  constructor(
    readonly problem: 'no-organs-found' | 'source-uids-missing' | 'source-not-readable' | 'source-geometry-mismatch',
    message: string,
  ) {
    super(message);
  }
}

export type DicomSegSegment = { label: number; organ: Organ };

export type DicomSegOptions = {
  /** Segment Algorithm Name (the models that made the label map). */
  algorithmName: string;
  /** Software Versions of the Enhanced General Equipment module. */
  softwareVersion: string;
  seriesDescription?: string;
  seriesNumber?: number;
  /** Fixed UIDs (tests); generated when absent. */
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
};

export type DicomSegSummary = {
  segments: { number: number; organ: Organ; label: number; frames: number }[];
  frames: number;
  sopInstanceUid: string;
  seriesInstanceUid: string;
};

const single = <T>(value: T | T[] | undefined): T | undefined => (Array.isArray(value) ? value[0] : value);
const numbers = (value: unknown): number[] => (Array.isArray(value) ? value.map(Number) : []);

/** Frame positions (LPS mm) and orientation of a normalised multi-frame dataset. */
function framesOf(multiframe: NaturalDataset): { positions: number[][]; orientation: number[] } {
  const perFrame = ([] as NaturalDataset[]).concat(multiframe.PerFrameFunctionalGroupsSequence ?? []);
  const shared = single(multiframe.SharedFunctionalGroupsSequence) ?? {};
  const orientation = numbers(single(shared.PlaneOrientationSequence)?.ImageOrientationPatient ?? single(perFrame[0]?.PlaneOrientationSequence)?.ImageOrientationPatient);
  const positions = perFrame.map((frame) => numbers(single(frame.PlanePositionSequence)?.ImagePositionPatient));
  return { positions, orientation };
}

/**
 * For each slice k of the label map, the 1-based frame of the normalised source it lies on
 * (matched by position, within a tenth of the slice spacing), after checking that the in-plane
 * axes and matrix agree. Throws `source-geometry-mismatch` otherwise.
 */
function frameOfSlice(multiframe: NaturalDataset, geometry: Geometry): number[] {
  const { positions, orientation } = framesOf(multiframe);
  const [nx, ny, nz] = geometry.size;
  const mismatch = (why: string) => new DicomSegUnavailable('source-geometry-mismatch', `The label map does not lie on the source DICOM slices: ${why}`);
  if (Number(multiframe.Columns) !== nx || Number(multiframe.Rows) !== ny) throw mismatch(`the slices are ${multiframe.Columns}×${multiframe.Rows}, the label map ${nx}×${ny}`);
  const d = geometry.direction;
  const axes = [
    [d[0], d[3], d[6]],
    [d[1], d[4], d[7]],
  ];
  if (orientation.length !== 6 || axes.flat().some((v, i) => Math.abs(v - orientation[i]) > 1e-3)) throw mismatch('the row and column directions differ');
  const tolerance = Math.max(1e-3, 0.1 * geometry.spacing[2]);
  return Array.from({ length: nz }, (_, k) => {
    const p = indexToPhysical(geometry, 0, 0, k);
    const index = positions.findIndex((q) => q.length === 3 && Math.hypot(q[0] - p[0], q[1] - p[1], q[2] - p[2]) <= tolerance);
    if (index < 0) throw mismatch(`no source slice at (${p.map((v) => v.toFixed(2)).join(', ')}) mm`);
    return index + 1;
  });
}

/**
 * Headers of the source files (everything before Pixel Data, naturalised: readDicomDataset of
 * libs/volumes, which reads only the header bytes of each file), in the files' order.
 * buildDicomSeg checks they carry the UIDs a SEG references.
 */
export async function readSourceHeaders(files: string[]): Promise<NaturalDataset[]> {
  const restoreLogs = quietDcmjs();
  try {
    const datasets: NaturalDataset[] = [];
    for (const file of files) {
      const which = `Source DICOM file ${datasets.length + 1}`;
      let dataset: NaturalDataset | null;
      try {
        dataset = await readDicomDataset(file);
      } catch (error) {
        throw new DicomSegUnavailable('source-not-readable', `${which} could not be parsed for the SEG: ${(error as Error).message}`);
      }
      if (!dataset) throw new DicomSegUnavailable('source-not-readable', `${which} ends before its pixel data: the SEG cannot reference it`);
      datasets.push(dataset);
    }
    return datasets;
  } finally {
    restoreLogs();
  }
}

function checkSourceUids(datasets: NaturalDataset[]): void {
  const required = ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'FrameOfReferenceUID'];
  for (const key of required) {
    if (datasets.some((ds) => !String(ds[key] ?? '').trim())) {
      throw new DicomSegUnavailable('source-uids-missing', `The source DICOM files lack ${key} (an anonymised export?): a SEG must reference the source study, series, instances and frame of reference`);
    }
  }
}

/** Copies of the headers with the stand-in Pixel Data the normaliser and the derivation size (never read). */
function withStandInPixels(datasets: NaturalDataset[]): NaturalDataset[] {
  return datasets.map((ds) => ({ ...ds, PixelData: new ArrayBuffer(2), _vrMap: { ...(ds._vrMap ?? {}), PixelData: 'OW' } }));
}

/**
 * Silences dcmjs's console logging (it logs what it tolerates, e.g. implicit-VR US/SS attributes,
 * at error level; real failures still throw) and returns how to restore it.
 */
function quietDcmjs(): () => void {
  const loggers = [dcmjs.log, dcmjs.log.getLogger('validation.dcmjs')];
  const levels = loggers.map((l) => l.getLevel());
  for (const l of loggers) l.setLevel('silent');
  return () => loggers.forEach((l, i) => l.setLevel(levels[i]));
}

function capitalised(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * A DICOM Segmentation object (binary, one segment per organ present in `labels`, frames only
 * where the organ is) for a label map on the grid of the DICOM sources (their headers:
 * readSourceHeaders), built with
 * dcmjs: the sources' headers are normalised into one multi-frame dataset, from which dcmjs's
 * Segmentation derivation takes patient, study, frame of reference, plane positions and the
 * per-frame source references; Lumen adds the segments, their SNOMED CT codes and the equipment.
 */
export function buildDicomSeg(
  sources: NaturalDataset[],
  labels: Uint8Array,
  geometry: Geometry,
  segments: DicomSegSegment[],
  options: DicomSegOptions,
): { bytes: Uint8Array; summary: DicomSegSummary } {
  const [nx, ny, nz] = geometry.size;
  const sliceLength = nx * ny;
  if (labels.length !== sliceLength * nz) throw new Error(`label map holds ${labels.length} voxels, its grid ${nx}×${ny}×${nz}`);
  const slicesOf = new Map<number, number[]>(segments.map((s) => [s.label, []]));
  for (let k = 0; k < nz; k++) {
    const seen = new Set<number>();
    for (let i = k * sliceLength, end = i + sliceLength; i < end; i++) if (labels[i]) seen.add(labels[i]);
    for (const label of seen) slicesOf.get(label)?.push(k);
  }
  const present = segments.filter((s) => slicesOf.get(s.label)!.length > 0);
  if (!present.length) throw new DicomSegUnavailable('no-organs-found', 'No organ was found in the image, so there is no segment to store: a DICOM SEG needs at least one');

  const restoreLogs = quietDcmjs();
  try {
    checkSourceUids(sources);
    const datasets = withStandInPixels(sources);
    const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(datasets);
    if (!multiframe) throw new DicomSegUnavailable('source-not-readable', `dcmjs has no normaliser for SOP Class ${datasets[0].SOPClassUID}`);
    const frames = frameOfSlice(multiframe, geometry);

    const seriesInstanceUid = options.seriesInstanceUid ?? DicomMetaDictionary.uid();
    const sopInstanceUid = options.sopInstanceUid ?? DicomMetaDictionary.uid();
    const seg = new dcmjs.derivations.Segmentation([multiframe], {
      includeSliceSpacing: true,
      Manufacturer: 'Lumen',
      ManufacturerModelName: 'Lumen cascaded CT organ segmentation',
      DeviceSerialNumber: '1',
      SoftwareVersions: options.softwareVersion,
      SeriesDescription: options.seriesDescription ?? 'Lumen organ segmentation',
      SeriesNumber: String(options.seriesNumber ?? 901),
      SeriesInstanceUID: seriesInstanceUid,
      SOPInstanceUID: sopInstanceUid,
      ContentLabel: 'SEGMENTATION',
      ContentDescription: 'Lumen organ segmentation',
      ImageComments: 'NOT FOR CLINICAL USE',
    });
    seg.setNumberOfFrames(present.reduce((n, s) => n + slicesOf.get(s.label)!.length, 0));
    for (const { label, organ } of present) {
      const slices = slicesOf.get(label)!;
      const type = ORGAN_SNOMED[organ];
      seg.addSegmentFromLabelmap(
        {
          SegmentLabel: capitalised(organ),
          SegmentDescription: `${capitalised(organ)} (Lumen label ${label})`,
          SegmentAlgorithmType: 'AUTOMATIC',
          SegmentAlgorithmName: options.algorithmName,
          SegmentedPropertyCategoryCodeSequence: ANATOMICAL_STRUCTURE,
          SegmentedPropertyTypeCodeSequence: { CodeValue: type.code, CodingSchemeDesignator: 'SCT', CodeMeaning: type.meaning },
          RecommendedDisplayCIELabValue: Colors.rgb82DICOMLAB(organColour(organ)),
        },
        slices.map((k) => labels.subarray(k * sliceLength, (k + 1) * sliceLength)),
        label,
        slices.map((k) => frames[k]),
      );
    }
    seg.bitPackPixelData();
    const ds = seg.dataset;
    // The derivation starts from the first source's file meta and value representations; a SEG
    // is its own object in Explicit VR Little Endian with 1-bit pixels in OB.
    ds._meta = { TransferSyntaxUID: { vr: 'UI', Value: [EXPLICIT_VR_LITTLE_ENDIAN] } };
    ds._vrMap = { PixelData: 'OB' };
    ds.SOPClassUID = SEGMENTATION_SOP_CLASS;
    ds.SpecificCharacterSet = 'ISO_IR 192';
    const bytes = new Uint8Array(datasetToDict(ds).write());
    return {
      bytes,
      summary: {
        segments: present.map((s, i) => ({ number: i + 1, organ: s.organ, label: s.label, frames: slicesOf.get(s.label)!.length })),
        frames: ds.NumberOfFrames,
        sopInstanceUid,
        seriesInstanceUid,
      },
    };
  } finally {
    restoreLogs();
  }
}
