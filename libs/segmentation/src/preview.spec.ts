import sharp from 'sharp';
import { ORGAN_COLOURS } from './organ-colours.js';
import { renderPreview } from './preview.js';

describe('renderPreview', () => {
  // As in a process that decodes uploads (restrictImageLoaders of libs/hashing): no SVG loader.
  beforeAll(() => sharp.block({ operation: ['VipsForeignLoadSvg'] }));
  afterAll(() => sharp.unblock({ operation: ['VipsForeignLoadSvg'] }));

  it('draws the legend (colour swatch and name of each organ) without any SVG', async () => {
    // 64 × 64 mm in plane: panels wide enough for both legend entries.
    const shape: [number, number, number] = [8, 64, 64];
    const image = new Int16Array(8 * 64 * 64).fill(40);
    const labels = new Uint8Array(image.length);
    labels.fill(1, 0, 3000);
    labels.fill(2, 6000, 9000);
    const png = await renderPreview(image, labels, shape, [2, 1, 1], [{ id: 1, name: 'liver' }, { id: 2, name: 'spleen' }]);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    // Swatches at x = 8 and 8 + 110, 14 px from y = 8.
    expect(pixel(8 + 7, 8 + 7)).toEqual(ORGAN_COLOURS.liver);
    expect(pixel(118 + 7, 8 + 7)).toEqual(ORGAN_COLOURS.spleen);
    // The names: light text right of each swatch, on black.
    const lightIn = (x0: number) => {
      let light = 0;
      for (let y = 8; y < 28; y++) for (let x = x0; x < x0 + 60; x++) if (pixel(x, y).every((v) => v > 128)) light++;
      return light;
    };
    expect(lightIn(28)).toBeGreaterThan(10);
    expect(lightIn(138)).toBeGreaterThan(10);
  });
});
