/**
 * The part of dcmjs (npm, untyped JavaScript) Lumen uses: reading Part-10 files, naturalised
 * datasets, the multi-frame normaliser, the Segmentation derivation and writing.
 */
declare module 'dcmjs' {
  /** A naturalised dataset: attribute keywords → values; sequences are arrays (or one object). */
  export type NaturalDataset = Record<string, any>;

  export interface DicomDictInstance {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
    write(options?: Record<string, unknown>): ArrayBuffer;
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
      DicomDict: new (meta: Record<string, unknown>) => DicomDictInstance;
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean }): DicomDictInstance };
      DicomMetaDictionary: {
        naturalizeDataset(dict: Record<string, unknown>): NaturalDataset;
        namifyDataset(dict: Record<string, unknown>): NaturalDataset;
        denaturalizeDataset(dataset: NaturalDataset): Record<string, unknown>;
        uid(): string;
        sopClassUIDsByName: Record<string, string>;
      };
      BitArray: { pack(pixels: ArrayLike<number>): Uint8Array; unpack(packed: ArrayBuffer | ArrayLike<number>): Uint8Array };
      Colors: { rgb82DICOMLAB(rgb: ArrayLike<number>): number[]; dicomlab2RGB8(lab: ArrayLike<number>): number[] };
      datasetToDict(dataset: NaturalDataset): DicomDictInstance;
    };
    normalizers: { Normalizer: { normalizeToDataset(datasets: NaturalDataset[]): NaturalDataset | undefined } };
    derivations: { Segmentation: new (datasets: NaturalDataset[], options?: Record<string, unknown>) => SegmentationDerivation };
    log: Logger & { getLogger(name: string): Logger };
  };
  export default dcmjs;
}
