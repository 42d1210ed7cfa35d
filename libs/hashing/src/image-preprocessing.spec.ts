import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { HOSTILE_SVG } from '../../../test/fixtures/bad-inputs/generate.js';
import { ImageRejectedError, type ImagePreprocessing, SERVED_IMAGE_LOADERS, imageToTensor, normalisePixels, readPreprocessing, restrictImageLoaders } from './image-preprocessing.js';

const PREP: ImagePreprocessing = { width: 32, height: 32, scale: 1 / 255, mean: [0.4913, 0.4821, 0.4465], std: [0.2452, 0.2428, 0.2606], resize: 'cover' };
const FIXTURE = fs.readFileSync(path.join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'images', 'cat-0000.jpg'));

/** Back from normalised CHW floats to HWC bytes, for comparisons in pixel units. */
function pixels(tensor: Float32Array, prep = PREP): number[] {
  const plane = prep.width * prep.height;
  const out: number[] = [];
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out.push(Math.round((tensor[c * plane + i] * prep.std[c] + prep.mean[c]) / prep.scale));
  return out;
}

async function rejection(bytes: Uint8Array, maxPixels?: number): Promise<ImageRejectedError> {
  const error = await imageToTensor(bytes, PREP, maxPixels).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageRejectedError);
  return error as ImageRejectedError;
}

describe('image preprocessing', () => {
  it('passes a 32×32 JPEG through unchanged and normalises it per channel', async () => {
    const tensor = await imageToTensor(FIXTURE, PREP);
    expect(tensor.length).toBe(3 * 32 * 32);
    expect(pixels(tensor)).toEqual([...(await sharp(FIXTURE).raw().toBuffer())]);
    expect(tensor[0]).toBeCloseTo(((await sharp(FIXTURE).raw().toBuffer())[0] / 255 - PREP.mean[0]) / PREP.std[0], 5);
  });

  it('normalises interleaved RGB into planar channels', () => {
    const rgb = new Uint8Array([255, 0, 51, 0, 255, 102]);
    const out = normalisePixels(rgb, { width: 2, height: 1, scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 0.2] });
    expect([...out].map((x) => Math.round(x * 1000) / 1000)).toEqual([1, -1, 0, 1, 1, 2]);
  });

  it('covers: scales the shorter side and centre-crops', async () => {
    // 64×32: left half red, right half blue, a green band in the middle 32 columns' centre.
    const wide = await sharp({ create: { width: 96, height: 32, channels: 3, background: '#ff0000' } })
      .composite([{ input: await sharp({ create: { width: 32, height: 32, channels: 3, background: '#00ff00' } }).png().toBuffer(), left: 32, top: 0 }])
      .png()
      .toBuffer();
    const px = pixels(await imageToTensor(wide, PREP));
    expect(px.slice(0, 3)).toEqual([0, 255, 0]);
    expect(px.slice(-3)).toEqual([0, 255, 0]);
  });

  it('applies EXIF orientation, flattens alpha on white, and makes grey, CMYK and 16-bit inputs sRGB', async () => {
    const rotatedByTag = await imageToTensor(await sharp(FIXTURE).png().withMetadata({ orientation: 6 }).toBuffer(), PREP);
    const rotated = await imageToTensor(await sharp(FIXTURE).rotate(90).png().toBuffer(), PREP);
    expect([...rotatedByTag]).toEqual([...rotated]);
    const transparent = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    expect(new Set(pixels(await imageToTensor(transparent, PREP)))).toEqual(new Set([255]));
    const grey = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#404040' } }).grayscale().png().toBuffer();
    expect(new Set(pixels(await imageToTensor(grey, PREP)))).toEqual(new Set([64]));
    const deep = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#102030' } }).toColourspace('rgb16').png().toBuffer();
    expect(pixels(await imageToTensor(deep, PREP)).slice(0, 3)).toEqual([16, 32, 48]);
    const cmyk = await sharp(FIXTURE).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    const fromCmyk = pixels(await imageToTensor(cmyk, PREP));
    const reference = pixels(await imageToTensor(FIXTURE, PREP));
    // CMYK (a smaller gamut than sRGB, converted through ICC profiles) comes back close on average, not to the byte.
    expect(fromCmyk.reduce((sum, v, i) => sum + Math.abs(v - reference[i]), 0) / fromCmyk.length).toBeLessThan(16);
  });

  it.each([
    ['png', (s: Sharp) => s.png()],
    ['webp', (s: Sharp) => s.webp({ lossless: true })],
    ['tiff', (s: Sharp) => s.tiff({ compression: 'lzw' })],
    ['gif', (s: Sharp) => s.gif()],
    ['avif', (s: Sharp) => s.avif()],
  ])('decodes %s', async (_format, encode) => {
    const tensor = await imageToTensor(await encode(sharp(FIXTURE)).toBuffer(), PREP);
    expect(tensor.length).toBe(3 * 32 * 32);
  });

  it.each(Object.entries(HOSTILE_SVG))('refuses %s as an unsupported format, naming SVG or XML when its start shows it', async (name, make) => {
    const error = await rejection(make());
    expect(error).toMatchObject({ code: 'image.unsupported-format' });
    expect(error.message).toMatch(name === 'svg-padded.svg' ? /not a recognised image/ : name.startsWith('xml') ? /^XML/ : /^SVG/);
  });

  describe('libvips loaders (restrictImageLoaders, applied when the module loads)', () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

    it('let sharp decode no SVG, PDF or other unserved format, even when called directly', async () => {
      for (const bytes of [svg, pdf, ...Object.values(HOSTILE_SVG).map((make) => make())]) {
        await expect(sharp(bytes).metadata()).rejects.toThrow(/unsupported image format/);
      }
    });

    it('are what stops SVG: unblocked, the same bytes decode', async () => {
      try {
        sharp.unblock({ operation: ['VipsForeignLoadSvgBuffer'] });
        expect((await sharp(svg).metadata()).format).toBe('svg');
      } finally {
        restrictImageLoaders();
      }
      await expect(sharp(svg).metadata()).rejects.toThrow(/unsupported image format/);
    });

    it('leave every served format decodable', async () => {
      const base = () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } });
      const encoded = await Promise.all([base().jpeg(), base().png(), base().webp(), base().gif(), base().avif(), base().tiff()].map((s) => s.toBuffer()));
      const formats = await Promise.all(encoded.map(async (bytes) => (await sharp(bytes).metadata()).format));
      expect(formats).toEqual(['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff']);
      expect(SERVED_IMAGE_LOADERS).toHaveLength(6);
    });
  });

  it('refuses empty files, non-images, unsupported formats, truncated data and decompression bombs', async () => {
    expect(await rejection(new Uint8Array(0))).toMatchObject({ code: 'image.empty' });
    const onePixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer();
    expect(await rejection(onePixel)).toMatchObject({ code: 'image.too-small' });
    expect(await rejection(Buffer.from('plain text, not an image'))).toMatchObject({ code: 'image.unsupported-format' });
    const svg = await rejection(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'));
    expect(svg).toMatchObject({ code: 'image.unsupported-format' });
    expect(svg.message).toContain('SVG');
    expect((await rejection(Buffer.from('%PDF-1.7\n'))).message).toContain('PDF');
    expect((await rejection(Buffer.from('BM\x36\x00\x00\x00'))).message).toContain('BMP');
    expect(await rejection(FIXTURE.subarray(0, Math.floor(FIXTURE.length * 0.7)))).toMatchObject({ code: 'image.undecodable' });
    const big = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#000' } }).png().toBuffer();
    const bomb = await rejection(big, 10_000);
    expect(bomb).toMatchObject({ code: 'image.too-large' });
    expect(bomb.message).toContain('200×100');
  });

  it('reads a card preprocessing block and names what is wrong', () => {
    expect(readPreprocessing({ width: 32, height: 32, channels: 'RGB', layout: 'NCHW', resize: 'cover', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] }, 'm')).toMatchObject({ width: 32, scale: 1 / 255 });
    expect(() => readPreprocessing({ width: 32, height: 32, mean: [0, 0], std: [1, 1, 1] }, 'm')).toThrow('preprocessing.mean');
    expect(() => readPreprocessing({ width: 32, height: 32, mean: [0, 0, 0], std: [1, 0, 1] }, 'm')).toThrow('preprocessing.std');
    expect(() => readPreprocessing({ width: 32, height: 32, resize: 'stretch', mean: [0, 0, 0], std: [1, 1, 1] }, 'm')).toThrow('preprocessing.resize');
    expect(() => readPreprocessing(undefined, 'm')).toThrow('preprocessing.width');
  });
});
