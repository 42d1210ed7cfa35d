import {
  type AxisMap,
  type NumericArray,
  type Shape3,
  axisMapFromDirection,
  canonicalSpacing,
  dilateMm,
  filterComponents,
  fromCanonical,
  nearestIndices,
  resampleLinear,
  resampleNearest,
  resampledShape,
  toCanonical,
  voxelCount,
} from '@lumen/volumes';
import type { Volume } from '@lumen/volumes';
import type { CascadeConfig, StageConfig } from './cascade-config.js';
import { accumulateSoftmax, argmaxClasses, gaussianImportance, tileStarts } from './kernels/tiles.js';

/** Runs a model on one [1, 1, z, y, x] input and returns its logits [classes, z, y, x]. */
export type Infer = (model: string, input: Float32Array, shape: Shape3) => Promise<Float32Array>;

export type CascadeProgress = (fraction: number, stage: string) => Promise<void>;

export type CascadeResult = {
  /** Labels on the input's exact grid, in the input's own voxel order. */
  labels: Uint8Array;
  /** The input's voxels in canonical order and the labels there (for previews). */
  canonical: { image: NumericArray; labels: Uint8Array; shape: Shape3; spacing: Shape3; map: AxisMap };
  timingsMs: Record<string, number>;
  stage2: { tiles: number; tilesTotal: number; voxelFraction: number } | null;
};

const CLASSES = 4;

function normaliseInto(target: Float32Array, source: Float32Array, stage: StageConfig): void {
  const [lo, hi] = stage.clipHu;
  for (let i = 0; i < source.length; i++) target[i] = (Math.min(Math.max(source[i], lo), hi) - stage.mean) / stage.std;
}

function normalisedPad(stage: StageConfig): number {
  const [lo, hi] = stage.clipHu;
  return (Math.min(Math.max(stage.padValueHu, lo), hi) - stage.mean) / stage.std;
}

/** Copies `src` (shape) into a larger zero-offset box (padded) filled with `fill`. */
function padInto(src: Float32Array, shape: Shape3, padded: Shape3, fill: number): Float32Array {
  const out = new Float32Array(voxelCount(padded)).fill(fill);
  for (let z = 0; z < shape[0]; z++) {
    for (let y = 0; y < shape[1]; y++) {
      const from = (z * shape[1] + y) * shape[2];
      out.set(src.subarray(from, from + shape[2]), (z * padded[1] + y) * padded[2]);
    }
  }
  return out;
}

function extractBox(src: Float32Array, shape: Shape3, start: Shape3, size: Shape3): Float32Array {
  const out = new Float32Array(voxelCount(size));
  let o = 0;
  for (let z = 0; z < size[0]; z++) {
    for (let y = 0; y < size[1]; y++) {
      const from = ((start[0] + z) * shape[1] + start[1] + y) * shape[2] + start[2];
      out.set(src.subarray(from, from + size[2]), o);
      o += size[2];
    }
  }
  return out;
}

/**
 * Roth et al.'s cascade. Stage 1 segments the whole volume at a coarse spacing; the largest
 * component of each organ, dilated, is the candidate region; stage 2 runs only the fine tiles
 * that touch it, blending overlaps with Gaussian weights. Probabilities exist only for the box
 * of those tiles, never for the whole volume; labels are uint8 throughout.
 */
export async function runCascade(
  volume: Volume,
  config: CascadeConfig,
  infer: Infer,
  /** singleStage: the baseline Roth et al. compare against — the fine model on every tile, no stage 1. */
  options: { fast: boolean; organs: number[]; singleStage?: boolean },
  progress: CascadeProgress,
): Promise<CascadeResult> {
  const timings: Record<string, number> = {};
  let clock = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - clock);
    clock = now;
  };

  const map = axisMapFromDirection(volume.direction);
  const { data: image, shape } = toCanonical(volume.data, volume.size, map);
  const spacing = canonicalSpacing(volume.spacing, map);
  const organIds = [...config.labels.values()];

  // ---- stage 1: whole volume, coarse spacing
  await progress(0.1, 'stage 1: coarse segmentation');
  const c = config.coarse;
  const shape1 = resampledShape(shape, spacing, c.spacingZYX);
  const coarseImage = resampleLinear(image, shape, spacing, c.spacingZYX, [0, 0, 0], shape1);
  normaliseInto(coarseImage, coarseImage, c);
  const padded1 = shape1.map((n) => Math.ceil(n / c.sizeDivisor) * c.sizeDivisor) as Shape3;
  const padded1Voxels = voxelCount(padded1);
  const logits1 = options.singleStage ? null : await infer(c.model, padInto(coarseImage, shape1, padded1, normalisedPad(c)), padded1);
  const labels1 = !logits1 ? new Uint8Array(voxelCount(shape1)) : filterComponents(
    argmaxClasses(logits1, CLASSES, voxelCount(shape1), padded1Voxels, (v) => {
      const x = v % shape1[2];
      const y = Math.floor(v / shape1[2]) % shape1[1];
      const z = Math.floor(v / (shape1[1] * shape1[2]));
      return (z * padded1[1] + y) * padded1[2] + x;
    }),
    shape1,
    organIds,
  );
  lap('stage1');

  let canonicalLabels: Uint8Array;
  let stage2: CascadeResult['stage2'] = null;
  if (options.fast) {
    canonicalLabels = resampleNearest(labels1, shape1, c.spacingZYX, spacing, [0, 0, 0], shape);
  } else {
    // ---- candidate region: organs dilated by dilationMm on the coarse grid
    const f = config.fine;
    const organMask = Uint8Array.from(labels1, (l) => (l > 0 ? 1 : 0));
    const candidate = dilateMm(organMask, shape1, c.spacingZYX, f.dilationMm);
    const shape2 = resampledShape(shape, spacing, f.spacingZYX);
    const grid2 = shape2.map((n, a) => Math.max(n, f.patchZYX[a])) as Shape3;
    const starts = [0, 1, 2].map((a) => tileStarts(grid2[a], f.patchZYX[a], f.strideZYX[a]));
    const ratio = [0, 1, 2].map((a) => f.spacingZYX[a] / c.spacingZYX[a]);
    const coarseIndex = (a: number, fineIndex: number) => Math.min(Math.max(Math.floor(fineIndex * ratio[a] + 0.5), 0), shape1[a] - 1);
    const touches = (start: number[]) => {
      if (options.singleStage) return true;
      const lo: number[] = [];
      const hi: number[] = [];
      for (let a = 0; a < 3; a++) {
        const end = Math.min(start[a] + f.patchZYX[a], shape2[a]) - 1;
        if (end < start[a]) return false;
        lo.push(coarseIndex(a, start[a]));
        hi.push(coarseIndex(a, end));
      }
      for (let z = lo[0]; z <= hi[0]; z++) for (let y = lo[1]; y <= hi[1]; y++) for (let x = lo[2]; x <= hi[2]; x++) if (candidate[(z * shape1[1] + y) * shape1[2] + x]) return true;
      return false;
    };
    const tiles: Shape3[] = [];
    for (const z of starts[0]) for (const y of starts[1]) for (const x of starts[2]) if (touches([z, y, x])) tiles.push([z, y, x]);
    const tilesTotal = starts[0].length * starts[1].length * starts[2].length;
    lap('candidateRegion');

    canonicalLabels = new Uint8Array(voxelCount(shape));
    if (tiles.length) {
      // The box holding every tile that runs: the only place fine data and probabilities exist.
      const lo = [0, 1, 2].map((a) => Math.min(...tiles.map((t) => t[a]))) as Shape3;
      const hi = [0, 1, 2].map((a) => Math.max(...tiles.map((t) => t[a])) + f.patchZYX[a]) as Shape3;
      const box = [0, 1, 2].map((a) => hi[a] - lo[a]) as Shape3;
      const inside = [0, 1, 2].map((a) => Math.max(0, Math.min(hi[a], shape2[a]) - lo[a])) as Shape3;
      const fineImage = resampleLinear(image, shape, spacing, f.spacingZYX, lo, inside);
      normaliseInto(fineImage, fineImage, f);
      const boxImage = padInto(fineImage, inside, box, normalisedPad(f));
      const boxVoxels = voxelCount(box);
      const accumulator = new Float32Array(CLASSES * boxVoxels);
      const ran = new Uint8Array(boxVoxels);
      const weight = gaussianImportance(f.patchZYX, f.gaussianSigmaFraction);
      for (const [n, tile] of tiles.entries()) {
        await progress(0.25 + (0.6 * n) / tiles.length, `stage 2: tile ${n + 1}/${tiles.length}`);
        const start = [tile[0] - lo[0], tile[1] - lo[1], tile[2] - lo[2]] as Shape3;
        const logits = await infer(f.model, extractBox(boxImage, box, start, f.patchZYX), f.patchZYX);
        accumulateSoftmax(logits, CLASSES, weight, accumulator, { shape: box, start, size: f.patchZYX });
        for (let z = 0; z < f.patchZYX[0]; z++) for (let y = 0; y < f.patchZYX[1]; y++) ran.fill(1, ((start[0] + z) * box[1] + start[1] + y) * box[2] + start[2], ((start[0] + z) * box[1] + start[1] + y) * box[2] + start[2] + f.patchZYX[2]);
      }
      lap('stage2');
      await progress(0.85, 'post-processing');
      const boxLabels = argmaxClasses(accumulator, CLASSES, boxVoxels);
      let ranInside = 0;
      for (let v = 0; v < boxVoxels; v++) {
        if (!ran[v]) boxLabels[v] = 0;
      }
      // Keep the part of the box on the fine grid, then clean up small components there.
      const insideLabels = new Uint8Array(voxelCount(inside));
      let o = 0;
      for (let z = 0; z < inside[0]; z++) {
        for (let y = 0; y < inside[1]; y++) {
          const from = (z * box[1] + y) * box[2];
          for (let x = 0; x < inside[2]; x++, o++) {
            insideLabels[o] = boxLabels[from + x];
            ranInside += ran[from + x];
          }
        }
      }
      const voxelMm3 = f.spacingZYX[0] * f.spacingZYX[1] * f.spacingZYX[2];
      const cleaned = filterComponents(insideLabels, inside, organIds, f.minComponentMm3 / voxelMm3);
      // Back to the input grid (nearest), placing the box where it lies on the fine grid.
      const idx = [0, 1, 2].map((a) => nearestIndices(shape2[a], 0, shape[a], spacing[a] / f.spacingZYX[a]));
      let v = 0;
      for (let z = 0; z < shape[0]; z++) {
        const bz = idx[0][z] - lo[0];
        for (let y = 0; y < shape[1]; y++) {
          const by = idx[1][y] - lo[1];
          for (let x = 0; x < shape[2]; x++, v++) {
            const bx = idx[2][x] - lo[2];
            if (bz >= 0 && by >= 0 && bx >= 0 && bz < inside[0] && by < inside[1] && bx < inside[2]) canonicalLabels[v] = cleaned[(bz * inside[1] + by) * inside[2] + bx];
          }
        }
      }
      stage2 = { tiles: tiles.length, tilesTotal, voxelFraction: ranInside / voxelCount(shape2) };
    } else {
      stage2 = { tiles: 0, tilesTotal, voxelFraction: 0 };
    }
  }
  if (options.organs.length < organIds.length) {
    const keep = new Set(options.organs);
    for (let i = 0; i < canonicalLabels.length; i++) if (canonicalLabels[i] && !keep.has(canonicalLabels[i])) canonicalLabels[i] = 0;
  }
  lap('postprocess');
  return {
    labels: fromCanonical(canonicalLabels, volume.size, map),
    canonical: { image, labels: canonicalLabels, shape, spacing, map },
    timingsMs: timings,
    stage2,
  };
}
