/** The parts of dcmjs (which ships no types) that Lumen uses. */
declare module 'dcmjs' {
  type DicomElement = { vr: string; Value?: unknown[] };
  type DicomDataset = Record<string, DicomElement>;
  type NaturalDataset = Record<string, unknown>;

  class DicomDict {
    constructor(meta: DicomDataset);
    meta: DicomDataset;
    dict: DicomDataset;
    write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
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
      };
    };
  };
  export default dcmjs;
}
