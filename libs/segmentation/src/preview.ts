import sharp, { type OverlayOptions } from 'sharp';
import type { NumericArray, Shape3 } from '@lumen/volumes';
import { type Rgb, organColour } from './organ-colours.js';

type Panel = { rgb: Uint8Array; width: number; height: number; widthMm: number; heightMm: number; title: string };

/** Text as Pango markup reads it. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Abdomen window (W400/L50): HU → grey. */
function grey(hu: number): number {
  return Math.max(0, Math.min(255, Math.round(((hu + 150) / 400) * 255)));
}

/**
 * One slice as RGB with the label overlay. `at(r, c)` gives the canonical voxel index of row r,
 * column c; rows run top to bottom on screen.
 */
function renderPanel(
  image: NumericArray,
  labels: Uint8Array,
  rows: number,
  cols: number,
  at: (r: number, c: number) => number,
  colours: Map<number, Rgb>,
  alpha: number,
): Uint8Array {
  const rgb = new Uint8Array(rows * cols * 3);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = at(r, c);
      const g = grey(image[v]);
      const colour = colours.get(labels[v]);
      const o = (r * cols + c) * 3;
      for (let k = 0; k < 3; k++) rgb[o + k] = colour ? Math.round(g * (1 - alpha) + colour[k] * alpha) : g;
    }
  }
  return rgb;
}

/**
 * Axial, coronal and sagittal slices through the labelled organs' centre (the volume's centre
 * when nothing was found), in radiological convention (patient's right on the left), each
 * scaled to true physical proportions, with a legend. Canonical arrays are LPS: x → Left,
 * y → Posterior, z → Superior.
 */
export async function renderPreview(
  image: NumericArray,
  labels: Uint8Array,
  shape: Shape3,
  spacing: Shape3,
  organs: { id: number; name: string }[],
  pixelsPerMm = 1.5,
): Promise<Buffer> {
  const [nz, ny, nx] = shape;
  let count = 0;
  let sz = 0;
  let sy = 0;
  let sx = 0;
  for (let v = 0; v < labels.length; v++) {
    if (!labels[v]) continue;
    count++;
    sx += v % nx;
    sy += Math.floor(v / nx) % ny;
    sz += Math.floor(v / (nx * ny));
  }
  const cz = count ? Math.round(sz / count) : Math.floor(nz / 2);
  const cy = count ? Math.round(sy / count) : Math.floor(ny / 2);
  const cx = count ? Math.round(sx / count) : Math.floor(nx / 2);
  const colours = new Map(organs.map((o) => [o.id, organColour(o.name)]));
  const idx = (z: number, y: number, x: number) => (z * ny + y) * nx + x;
  const panels: Panel[] = [
    // Axial: anterior at the top, patient's right on the left.
    { rgb: renderPanel(image, labels, ny, nx, (r, c) => idx(cz, r, c), colours, 0.45), width: nx, height: ny, widthMm: nx * spacing[2], heightMm: ny * spacing[1], title: `axial z=${cz}` },
    // Coronal: superior at the top.
    { rgb: renderPanel(image, labels, nz, nx, (r, c) => idx(nz - 1 - r, cy, c), colours, 0.45), width: nx, height: nz, widthMm: nx * spacing[2], heightMm: nz * spacing[0], title: `coronal y=${cy}` },
    // Sagittal: superior at the top, anterior on the left.
    { rgb: renderPanel(image, labels, nz, ny, (r, c) => idx(nz - 1 - r, c, cx), colours, 0.45), width: ny, height: nz, widthMm: ny * spacing[1], heightMm: nz * spacing[0], title: `sagittal x=${cx}` },
  ];
  const scaled = await Promise.all(
    panels.map(async (p) => {
      const width = Math.max(16, Math.round(p.widthMm * pixelsPerMm));
      const height = Math.max(16, Math.round(p.heightMm * pixelsPerMm));
      const buffer = await sharp(Buffer.from(p.rgb), { raw: { width: p.width, height: p.height, channels: 3 } })
        .resize(width, height, { fit: 'fill', kernel: 'nearest' })
        .png()
        .toBuffer();
      return { buffer, width, height, title: p.title };
    }),
  );
  const gap = 8;
  const legendHeight = 28;
  const width = scaled.reduce((sum, p) => sum + p.width, 0) + gap * (scaled.length + 1);
  const height = Math.max(...scaled.map((p) => p.height)) + gap * 2 + legendHeight;
  let left = gap;
  const composites: OverlayOptions[] = scaled.map((p) => {
    const placed = { input: p.buffer, left, top: gap + legendHeight };
    left += p.width + gap;
    return placed;
  });
  // The legend is drawn from raw colour and Pango text, not SVG: image loaders other than the
  // served raster ones are blocked in processes that decode uploads (restrictImageLoaders).
  organs.forEach((o, i) => {
    const [r, g, b] = organColour(o.name);
    const x = gap + i * 110;
    composites.push({ input: { create: { width: 14, height: 14, channels: 3, background: { r, g, b } } }, left: x, top: 8 });
    composites.push({ input: { text: { text: `<span foreground="white">${escapeMarkup(o.name)}</span>`, font: 'sans 13', dpi: 72, rgba: true } }, left: x + 20, top: 8 });
  });
  return sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite(composites)
    .png()
    .toBuffer();
}
