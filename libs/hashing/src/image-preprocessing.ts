import { DomainError } from '@lumen/errors';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';

/** How a hashing model wants its input (card.json `preprocessing`). */
export type ImagePreprocessing = {
  width: number;
  height: number;
  /** Multiplies the 0..255 pixel before mean/std (1/255 for the CIFAR models). */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** cover = scale the shorter side to fit, then centre-crop (identity for an image already width×height). */
  resize: 'cover';
};

/** Formats decoded (sharp's `format` names; AVIF is reported as heif). */
export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff'] as const;

/**
 * The libvips loaders of those formats, from memory: Lumen hands sharp nothing but buffers. The
 * heif loader reads AVIF; HEIC needs an HEVC decoder sharp's libvips does not ship, and is refused
 * by signature before sharp sees it.
 */
export const SERVED_IMAGE_LOADERS = ['VipsForeignLoadJpegBuffer', 'VipsForeignLoadPngBuffer', 'VipsForeignLoadWebpBuffer', 'VipsForeignLoadNsgifBuffer', 'VipsForeignLoadHeifBuffer', 'VipsForeignLoadTiffBuffer'] as const;

/**
 * Blocks every libvips loader (the `VipsForeignLoad` base class: SVG, PDF, VIPS, FITS, Matrix,
 * CSV, UltraHDR, OpenSlide, Magick...) but the served ones, process-wide: an upload that slips
 * past the signature check (sniffUnsupported) still never reaches the parser of a format Lumen
 * does not serve — librsvg's XML parser with its entities and external references, poppler —
 * and sharp answers "unsupported image format" instead. Savers and images made from raw pixels
 * are not loaders and stay available (the segmentation preview is drawn that way).
 */
export function restrictImageLoaders(): void {
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: [...SERVED_IMAGE_LOADERS] });
}

// Before this module decodes anything, in every process that can decode an upload.
restrictImageLoaders();

/** Decompression-bomb guard: images declaring more pixels than this are refused before decoding. */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

/** Every way an image can be refused for hashing. */
export const IMAGE_ERROR_CODES = [
  /** Not an image, or an image format that is not served (SVG, PDF, BMP, HEIC, ...). */
  'image.unsupported-format',
  /** A supported format that does not decode (corrupt, truncated, zero-size). */
  'image.undecodable',
  /** The file holds no bytes. */
  'image.empty',
  /** More pixels than the decompression-bomb guard allows. */
  'image.too-large',
  /** Too few pixels to say anything about (a 1×1 tracking pixel, say). */
  'image.too-small',
] as const;
export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number];

/** Smallest side accepted: below it an image carries no content a hash could describe. */
export const MIN_IMAGE_SIDE = 8;

/** Why an image cannot be hashed; `file` names the upload when the caller knows it. */
export class ImageRejectedError extends DomainError<ImageErrorCode> {
  /** The same refusal, naming the uploaded file it is about. */
  about(file: { field: string; clientName?: string }): ImageRejectedError {
    return new ImageRejectedError(this.code, this.detail, { file: { field: file.field, name: file.clientName } });
  }
}

/**
 * Known signatures of formats Lumen does not hash, so the client hears which format it sent.
 * SVG is refused on purpose: it is a program more than a picture (external references, an
 * arbitrary render size) and nothing like the photographs the models were trained on.
 */
function sniffUnsupported(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 512));
  const ascii = head.toString('latin1');
  if (ascii.startsWith('%PDF')) return 'PDF';
  if (ascii.startsWith('BM')) return 'BMP';
  if (ascii.startsWith('8BPS')) return 'PSD';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x00000100) return 'ICO';
  const markup = xmlMarkup(ascii);
  if (markup) return markup;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip data (SVGZ?)';
  if (ascii.slice(4, 8) === 'ftyp') {
    const brand = ascii.slice(8, 12);
    if (brand !== 'avif' && brand !== 'avis') return `HEIF (${brand.trim()})`;
  }
  if (ascii.startsWith('\x00\x00\x00\x0cjP  ') || ascii.startsWith('\xff\x4f\xff\x51')) return 'JPEG 2000';
  if (ascii.startsWith('\xff\x0a') || ascii.startsWith('\x00\x00\x00\x0cJXL ')) return 'JPEG XL';
  return null;
}

/**
 * 'SVG' (or 'XML') when the text starts like an XML document: an XML declaration, a DOCTYPE
 * (whatever its internal subset holds: entities, external references), a comment or an element.
 * No image format we serve starts with '<', so the start alone decides, however long the
 * DOCTYPE is; a byte-order mark and UTF-16's zero bytes are looked through.
 */
function xmlMarkup(latin1: string): string | null {
  const text = latin1.replace(/^(\xef\xbb\xbf|\xff\xfe|\xfe\xff)/, '').replace(/\x00/g, '');
  if (!/^\s*<[?!a-z]/i.test(text)) return null;
  return /<svg[\s>/]|<!DOCTYPE\s+svg/i.test(text) ? 'SVG' : 'XML (SVG?)';
}

const SUPPORTED_LIST = 'JPEG, PNG, WebP, GIF, AVIF or TIFF';

/**
 * Decodes an image and produces the model's input: EXIF orientation applied, first frame only,
 * alpha flattened on white, sRGB with 3 channels, resized per `prep`, normalised
 * (pixel·scale − mean[c]) / std[c] into a Float32 CHW array of 3·height·width values.
 * Throws ImageRejectedError for anything that is not a decodable supported image.
 */
export async function imageToTensor(bytes: Uint8Array, prep: ImagePreprocessing, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): Promise<Float32Array> {
  if (bytes.byteLength === 0) throw new ImageRejectedError('image.empty', 'the file is empty (0 bytes)');
  const unsupported = sniffUnsupported(bytes);
  if (unsupported) throw new ImageRejectedError('image.unsupported-format', `${unsupported} is not supported; send ${SUPPORTED_LIST}`);
  const options: SharpOptions = { limitInputPixels: maxPixels, failOn: 'error', pages: 1, page: 0 };
  let metadata: Metadata;
  try {
    // Header only: nothing is decoded yet, so the pixel limit is checked below, by us, with the size named.
    metadata = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    if (/unsupported image format/i.test(message)) throw new ImageRejectedError('image.unsupported-format', `not a recognised image; send ${SUPPORTED_LIST}`);
    throw new ImageRejectedError('image.undecodable', `the image header cannot be read: ${message}`);
  }
  const format = metadata.format as string;
  if (!(SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new ImageRejectedError('image.unsupported-format', `${format.toUpperCase()} is not supported; send ${SUPPORTED_LIST}`);
  }
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  if (width < 1 || height < 1) throw new ImageRejectedError('image.undecodable', `the image declares a zero size (${width}×${height})`);
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    throw new ImageRejectedError('image.too-small', `the image is ${width}×${height} pixels; both sides must be at least ${MIN_IMAGE_SIDE}`);
  }
  if (width * height > maxPixels) {
    throw new ImageRejectedError('image.too-large', `the image declares ${width}×${height} pixels, more than the limit of ${maxPixels}`);
  }
  let pixels: Buffer;
  let info: OutputInfo;
  try {
    ({ data: pixels, info } = await sharp(bytes, options)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(prep.width, prep.height, { fit: 'cover', position: 'centre' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  } catch (error) {
    const message = (error as Error).message;
    if (/pixel limit/i.test(message)) throw new ImageRejectedError('image.too-large', `the image has more pixels than the limit of ${maxPixels}`);
    throw new ImageRejectedError('image.undecodable', `the ${format === 'heif' ? 'AVIF' : format.toUpperCase()} data does not decode: ${message.split('\n')[0]}`);
  }
  if (info.channels !== 3 || info.width !== prep.width || info.height !== prep.height) {
    throw new ImageRejectedError('image.undecodable', `decoding gave ${info.width}×${info.height}×${info.channels}, expected ${prep.width}×${prep.height}×3`);
  }
  return normalisePixels(pixels, prep);
}

/** Interleaved RGB bytes (HWC) → normalised planar float CHW, as the models expect. */
export function normalisePixels(rgb: Uint8Array, prep: Pick<ImagePreprocessing, 'width' | 'height' | 'scale' | 'mean' | 'std'>): Float32Array {
  const plane = prep.width * prep.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = prep.scale / prep.std[c];
    const shift = prep.mean[c] / prep.std[c];
    for (let i = 0, o = c * plane; i < plane; i++, o++) out[o] = rgb[i * 3 + c] * scale - shift;
  }
  return out;
}

/** Reads card.json `preprocessing`; throws naming the first field that does not fit. */
export function readPreprocessing(raw: unknown, model: string): ImagePreprocessing {
  const p = (raw ?? {}) as Record<string, unknown>;
  const fail = (what: string) => {
    throw new Error(`model ${model}: card.json preprocessing.${what}`);
  };
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!positiveInt(p.width)) fail('width must be a positive integer');
  if (!positiveInt(p.height)) fail('height must be a positive integer');
  if ((p.channels ?? 'RGB') !== 'RGB') fail('channels must be "RGB"');
  if ((p.layout ?? 'NCHW') !== 'NCHW') fail('layout must be "NCHW"');
  if ((p.resize ?? 'cover') !== 'cover') fail('resize must be "cover"');
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!triple(p.mean)) fail('mean must be 3 numbers');
  if (!triple(p.std) || (p.std as number[]).some((x) => x <= 0)) fail('std must be 3 positive numbers');
  const scale = p.scale ?? 1 / 255;
  if (typeof scale !== 'number' || !(scale > 0)) fail('scale must be a positive number');
  return { width: p.width as number, height: p.height as number, scale: scale as number, mean: p.mean as ImagePreprocessing['mean'], std: p.std as ImagePreprocessing['std'], resize: 'cover' };
}
