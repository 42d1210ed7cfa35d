/**
 * The parts of dcmjs (npm, untyped JavaScript) Lumen uses, the one declaration of the module:
 * reading Part-10 files (libs/volumes: DICOM input headers), naturalised datasets, and for the
 * DICOM SEG output (libs/segmentation) the multi-frame normaliser, the Segmentation derivation
 * and writing a dataset.
 */
declare module 'dcmjs' {
  /** A dataset as read: tag ("7FE00010") → element. */
  export type DicomElement = { vr: string; Value?: unknown[] };
  export type DicomDataset = Record<string, DicomElement>;
  /** A naturalised dataset: attribute keywords → values; sequences are arrays (or one object). */
  export type NaturalDataset = Record<string, any>;

  export class DicomDict {
    constructor(meta: DicomDataset);
    meta: DicomDataset;
    dict: DicomDataset;
    write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
  }

  export interface SegmentationDerivation {
    dataset: NaturalDataset;
    setNumberOfFrames(frames: number): void;
    addSegmentFromLabelmap(segment: NaturalDataset, labelmaps: ArrayLike<number>[], segmentIndexInLabelmap: number, referencedFrameNumbers: number[]): void;
    bitPackPixelData(): void;
  }

  export interface Logger {
    setLevel(level: string | number): void;
    getLevel(): number;
  }

  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMessage: {
        readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean }): DicomDict;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dataset: DicomDataset): NaturalDataset;
        denaturalizeDataset(dataset: NaturalDataset): DicomDataset;
        namifyDataset(dataset: DicomDataset): NaturalDataset;
        uid(): string;
        sopClassUIDsByName: Record<string, string>;
      };
      BitArray: { pack(pixels: ArrayLike<number>): Uint8Array; unpack(packed: ArrayBuffer | ArrayLike<number>): Uint8Array };
      Colors: { rgb82DICOMLAB(rgb: ArrayLike<number>): number[]; dicomlab2RGB8(lab: ArrayLike<number>): number[] };
      datasetToDict(dataset: NaturalDataset): DicomDict;
    };
    normalizers: { Normalizer: { normalizeToDataset(datasets: NaturalDataset[]): NaturalDataset | undefined } };
    derivations: { Segmentation: new (datasets: NaturalDataset[], options?: Record<string, unknown>) => SegmentationDerivation };
    log: Logger & { getLogger(name: string): Logger };
  };
  export default dcmjs;
}
