import { VolumeError } from '../volume-error.js';

export type TransferSyntax = { uid: string; name: string; decodes: boolean };

/**
 * Transfer syntaxes by UID, and whether the worker's reader (itk-wasm's DICOM series reader,
 * GDCM inside) decodes them. The decoders were tried on CT slices converted by dcmtk
 * (dcmcjpeg, dcmcjpls, dcmcrle, dcmconv) and GDCM (gdcmconv --j2k): all read back voxel for voxel
 * (lossless ones) — see docs/dicom-input.md. Anything not marked `decodes` is refused with a
 * 415 naming it before a job is queued.
 */
const SYNTAXES: TransferSyntax[] = [
  { uid: '1.2.840.10008.1.2', name: 'Implicit VR Little Endian', decodes: true },
  { uid: '1.2.840.10008.1.2.1', name: 'Explicit VR Little Endian', decodes: true },
  { uid: '1.2.840.10008.1.2.2', name: 'Explicit VR Big Endian (retired)', decodes: true },
  { uid: '1.2.840.10008.1.2.1.99', name: 'Deflated Explicit VR Little Endian', decodes: true },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', decodes: true },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)', decodes: true },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)', decodes: true },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless, First-Order Prediction (Process 14, SV1)', decodes: true },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', decodes: true },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Near-Lossless', decodes: true },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Lossless', decodes: true },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', decodes: true },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', decodes: true },
  { uid: '1.2.840.10008.1.2.4.92', name: 'JPEG 2000 Part 2 Multi-component Lossless', decodes: false },
  { uid: '1.2.840.10008.1.2.4.93', name: 'JPEG 2000 Part 2 Multi-component', decodes: false },
  { uid: '1.2.840.10008.1.2.4.94', name: 'JPIP Referenced', decodes: false },
  { uid: '1.2.840.10008.1.2.4.95', name: 'JPIP Referenced Deflate', decodes: false },
  { uid: '1.2.840.10008.1.2.4.100', name: 'MPEG2 Main Profile / Main Level', decodes: false },
  { uid: '1.2.840.10008.1.2.4.101', name: 'MPEG2 Main Profile / High Level', decodes: false },
  { uid: '1.2.840.10008.1.2.4.102', name: 'MPEG-4 AVC/H.264 High Profile', decodes: false },
  { uid: '1.2.840.10008.1.2.4.103', name: 'MPEG-4 AVC/H.264 BD-compatible High Profile', decodes: false },
  { uid: '1.2.840.10008.1.2.4.107', name: 'HEVC/H.265 Main Profile', decodes: false },
  { uid: '1.2.840.10008.1.2.4.108', name: 'HEVC/H.265 Main 10 Profile', decodes: false },
  { uid: '1.2.840.10008.1.2.4.110', name: 'JPEG XL Lossless', decodes: false },
  { uid: '1.2.840.10008.1.2.4.111', name: 'JPEG XL JPEG Recompression', decodes: false },
  { uid: '1.2.840.10008.1.2.4.112', name: 'JPEG XL', decodes: false },
  { uid: '1.2.840.10008.1.2.4.201', name: 'High-Throughput JPEG 2000 Lossless', decodes: false },
  { uid: '1.2.840.10008.1.2.4.202', name: 'High-Throughput JPEG 2000 with RPCL Options Lossless', decodes: false },
  { uid: '1.2.840.10008.1.2.4.203', name: 'High-Throughput JPEG 2000', decodes: false },
];

const BY_UID = new Map(SYNTAXES.map((s) => [s.uid, s]));

export function transferSyntax(uid: string): TransferSyntax {
  return BY_UID.get(uid) ?? { uid, name: `unknown transfer syntax ${uid}`, decodes: false };
}

/** The transfer syntaxes the worker decodes (documented in docs/dicom-input.md). */
export function decodedTransferSyntaxes(): TransferSyntax[] {
  return SYNTAXES.filter((s) => s.decodes);
}

/** 415 naming the transfer syntax when the worker could not decode the series' pixels. */
export function assertDecodable(uids: string[]): TransferSyntax {
  const syntaxes = [...new Set(uids)].map(transferSyntax);
  const refused = syntaxes.find((s) => !s.decodes);
  if (refused) {
    throw new VolumeError('volume.unsupported-transfer-syntax', `The series is encoded as ${refused.name} (${refused.uid}), which Lumen cannot decode; export it uncompressed or as ${['JPEG Lossless', 'JPEG-LS', 'JPEG 2000', 'RLE Lossless'].join(', ')}`, {
      transferSyntaxUid: refused.uid,
      transferSyntax: refused.name,
    });
  }
  return syntaxes[0];
}
