// Fuzzing image intake: our signature checks, then sharp/libvips on damaged served formats and on
// junk. See test/support/fuzz.ts.
import fc from 'fast-check';
import sharp from 'sharp';
import { fuzz, fuzzTimeout } from '../../../test/support/fuzz.js';
import { ImageRejectedError, type ImagePreprocessing, imageToTensor } from './image-preprocessing.js';

const PREP: ImagePreprocessing = { width: 32, height: 32, scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'cover' };

let sources: Buffer[] = [];
beforeAll(async () => {
  const base = () => sharp({ create: { width: 40, height: 24, channels: 3, background: '#6a3d9a' } });
  sources = await Promise.all([base().jpeg(), base().png(), base().webp(), base().gif(), base().tiff(), base().avif()].map((s) => s.toBuffer()));
});

describe('imageToTensor (fuzzed)', () => {
  it('gives a 3×32×32 finite tensor or an ImageRejectedError for damaged and junk images', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ source: fc.nat(), cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })), writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }) }),
          fc.uint8Array({ maxLength: 1500 }),
        ),
        async (input) => {
          let bytes: Buffer;
          if (input instanceof Uint8Array) bytes = Buffer.from(input);
          else {
            bytes = Buffer.from(sources[input.source % sources.length]);
            for (const [at, value] of input.writes) bytes[at % bytes.length] = value;
            if (input.cut !== null) bytes = bytes.subarray(0, Math.floor(bytes.length * input.cut));
          }
          try {
            const tensor = await imageToTensor(bytes, PREP);
            return tensor.length === 3 * 32 * 32 && tensor.every(Number.isFinite);
          } catch (error) {
            if (!(error instanceof ImageRejectedError)) throw error;
            return true;
          }
        },
      ),
      fuzz(300),
    );
  }, fuzzTimeout(300, 50));
});
