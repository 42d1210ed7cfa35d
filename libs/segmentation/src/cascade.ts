import {
  type AxisMap,
  type NumericArray,
  type Shape3,
  type Volume,
  axisMapFromDirection,
  canonicalSpacing,
  dilateMm,
  filterComponents,
  fromCanonical,
  nearestIndices,
  resampleLinear,
  resampledShape,
  toCanonical,
  voxelCount,
} from '@lumen/volumes';
import type { CascadeConfig, FineStageConfig, StageConfig } from './cascade-config.js';
import { accumulateSoftmax, argmaxClasses, gaussianImportance, tileStarts, tileStartsCovering } from './kernels/tiles.js';

/** Runs a model on one [1, 1, z, y, x] input and returns its logits [classes, z, y, x]. */
export type Infer = (model: string, input: Float32Array, shape: Shape3) => Promise<Float32Array>;

/** The cascade's own steps, as reported while it runs. */
export enum CascadeStep {
  Stage1 = 'stage1',
  CandidateRegion = 'candidate-region',
  Stage2 = 'stage2',
  PostProcessing = 'post-processing',
}

export type CascadeProgress = (fraction: number, step: CascadeStep, text: string) => Promise<void>;

export type CascadeOptions = {
  /** Stage 1 only. */
  fast: boolean;
  /** Output label ids to keep (config.labels values); the others become background. */
  organs: number[];
};

export type Stage2Summary = { tiles: number; tilesTotal: number; voxelFraction: number };

export type CascadeResult = {
  /** Labels on the input's exact grid, in the input's own voxel order. */
  labels: Uint8Array;
  /** The input's voxels in canonical order and the labels there (for previews). */
  canonical: CanonicalInput & { labels: Uint8Array };
  timingsMs: Record<string, number>;
  stage2: Stage2Summary | null;
};

/** The input volume in canonical (LPS, [z, y, x]) array order. */
export type CanonicalInput = { image: NumericArray; shape: Shape3; spacing: Shape3; map: AxisMap };

/**
 * Labels for the box [start, start + size) of a grid of `shape` voxels at `spacing` mm (the box
 * may be the whole grid); everything outside the box is background.
 */
export type GridLabels = { labels: Uint8Array; spacing: Shape3; shape: Shape3; start: Shape3; size: Shape3 };

/** Which fine tiles run: starts on the fine grid (`shape`), out of `tilesTotal` possible. */
/** The dilated stage-1 organs on the coarse grid: the only voxels stage 2 may label when the card says maskToCandidate. */
export type CandidateRegion = {
  mask: Uint8Array;
  shape: Shape3;
  spacing: Shape3;
  /** The mask's bounding box (`lo`, `hi` inclusive per axis); null when the region is empty. */
  bounds: [Shape3, Shape3] | null;
};

/** A candidate region on a grid, with its bounding box (read by the tile plan and the box mask). */
export function candidateRegion(mask: Uint8Array, shape: Shape3, spacing: Shape3): CandidateRegion {
  return { mask, shape, spacing, bounds: maskBounds(mask, shape) };
}

export type TilePlan = { shape: Shape3; tiles: Shape3[]; tilesTotal: number; candidate?: CandidateRegion };

export type FineResult = { labels: GridLabels; summary: Stage2Summary };

const ORIGIN: Shape3 = [0, 0, 0];
const AXES = [0, 1, 2] as const;
const perAxis = (f: (a: number) => number): Shape3 => [f(0), f(1), f(2)];

export function canonicalInput(volume: Volume): CanonicalInput {
  const map = axisMapFromDirection(volume.direction);
  const { data: image, shape } = toCanonical(volume.data, volume.size, map);
  return { image, shape, spacing: canonicalSpacing(volume.spacing, map), map };
}

/** Clips to the stage's HU window and standardises, in place. */
function normalise(data: Float32Array, stage: StageConfig): Float32Array {
  const [lo, hi] = stage.clipHu;
  for (let i = 0; i < data.length; i++) data[i] = (Math.min(Math.max(data[i], lo), hi) - stage.mean) / stage.std;
  return data;
}

function normalisedPad(stage: StageConfig): number {
  const [lo, hi] = stage.clipHu;
  return (Math.min(Math.max(stage.padValueHu, lo), hi) - stage.mean) / stage.std;
}

/**
 * Copies `src` (shape) into a larger zero-offset box (padded), the rest filled with `fill`, or with
 * 'edge' each voxel beyond the end repeats the last one along that axis (numpy's pad mode "edge").
 */
export function padInto(src: Float32Array, shape: Shape3, padded: Shape3, fill: number | 'edge'): Float32Array {
  const out = new Float32Array(voxelCount(padded));
  if (fill !== 'edge') out.fill(fill);
  const rows = fill === 'edge' ? padded : shape;
  for (let z = 0; z < rows[0]; z++) {
    for (let y = 0; y < rows[1]; y++) {
      const from = (Math.min(z, shape[0] - 1) * shape[1] + Math.min(y, shape[1] - 1)) * shape[2];
      const to = (z * padded[1] + y) * padded[2];
      out.set(src.subarray(from, from + shape[2]), to);
      if (fill === 'edge') out.fill(src[from + shape[2] - 1], to + shape[2], to + padded[2]);
    }
  }
  return out;
}

function extractBox<T extends Float32Array | Uint8Array>(src: T, shape: Shape3, start: Shape3, size: Shape3): T {
  const out = new (src.constructor as new (n: number) => T)(voxelCount(size));
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

/** Replaces each model class by its served label id (0 for classes that are not served organs). */
function toServedLabels(classes: Uint8Array, stage: StageConfig): Uint8Array {
  for (let i = 0; i < classes.length; i++) classes[i] = stage.classToLabel[classes[i]];
  return classes;
}

/** Keeps only the given label ids; everything else becomes background (in place). */
export function keepLabels(labels: Uint8Array, keep: number[]): Uint8Array {
  const kept = new Set(keep);
  for (let i = 0; i < labels.length; i++) if (labels[i] && !kept.has(labels[i])) labels[i] = 0;
  return labels;
}

/**
 * Stage 1: the whole volume at the coarse spacing, padded to the model's size divisor; argmax
 * over all the model's classes, mapped to served labels, largest component per organ.
 */
export async function coarseStage(input: CanonicalInput, config: CascadeConfig, infer: Infer): Promise<GridLabels> {
  const c = config.coarse;
  const shape = resampledShape(input.shape, input.spacing, c.spacingZYX);
  const image = normalise(resampleLinear(input.image, input.shape, input.spacing, c.spacingZYX, ORIGIN, shape), c);
  const padded = perAxis((a) => Math.ceil(shape[a] / c.sizeDivisor) * c.sizeDivisor);
  const logits = await infer(c.model, padInto(image, shape, padded, normalisedPad(c)), padded);
  const classes = argmaxClasses(logits, c.classes, voxelCount(shape), voxelCount(padded), (v) => {
    const x = v % shape[2];
    const y = Math.floor(v / shape[2]) % shape[1];
    const z = Math.floor(v / (shape[1] * shape[2]));
    return (z * padded[1] + y) * padded[2] + x;
  });
  const labels = filterComponents(toServedLabels(classes, c), shape, [...config.labels.values()]);
  return { labels, spacing: c.spacingZYX, shape, start: ORIGIN, size: shape };
}

/** The fine grid of the input and the tile starts along each of its axes. */
function fineGrid(input: CanonicalInput, f: FineStageConfig): { shape: Shape3; starts: number[][] } {
  const shape = resampledShape(input.shape, input.spacing, f.spacingZYX);
  return { shape, starts: AXES.map((a) => tileStarts(Math.max(shape[a], f.patchZYX[a]), f.patchZYX[a], f.strideZYX[a])) };
}

function tilesWhere(grid: { shape: Shape3; starts: number[][] }, runs: (start: Shape3) => boolean): TilePlan {
  const [zs, ys, xs] = grid.starts;
  const tiles: Shape3[] = [];
  for (const z of zs) for (const y of ys) for (const x of xs) if (runs([z, y, x])) tiles.push([z, y, x]);
  return { shape: grid.shape, tiles, tilesTotal: zs.length * ys.length * xs.length };
}

/**
 * The candidate region: stage 1's organs dilated by `dilationMm` on the coarse grid. A fine tile
 * runs when any coarse voxel nearest to its part on the fine grid lies in that region.
 */
export function candidateTiles(coarse: GridLabels, input: CanonicalInput, config: CascadeConfig): TilePlan {
  const f = config.fine;
  const region = candidateRegion(dilateMm(coarse.labels.map((l) => (l > 0 ? 1 : 0)), coarse.shape, coarse.spacing, f.dilationMm), coarse.shape, coarse.spacing);
  const volumeGrid = fineGrid(input, f);
  // tilesTotal stays the whole volume's grid: what the single-stage baseline runs.
  const tilesTotal = volumeGrid.starts.reduce((n, starts) => n * starts.length, 1);
  // The grid is anchored on the region's extent on the fine grid, not on the volume: tiles laid
  // from the volume's corner straddle the region's border and run mostly outside it.
  const extent = fineExtent(region, volumeGrid.shape, f.spacingZYX);
  if (!extent) return { shape: volumeGrid.shape, tiles: [], tilesTotal, candidate: region };
  const grid = {
    shape: volumeGrid.shape,
    starts: AXES.map((a) => tileStartsCovering(Math.max(volumeGrid.shape[a], f.patchZYX[a]), f.patchZYX[a], f.strideZYX[a], extent.lo[a], extent.hi[a])),
  };
  const coarseIndex = (a: number, fineIndex: number) => nearestIndices(coarse.shape[a], fineIndex, 1, f.spacingZYX[a] / coarse.spacing[a])[0];
  const [, cy, cx] = coarse.shape;
  const plan = tilesWhere(grid, (start) => {
    const lo: number[] = [];
    const hi: number[] = [];
    for (const a of AXES) {
      const end = Math.min(start[a] + f.patchZYX[a], grid.shape[a]) - 1;
      if (end < start[a]) return false;
      lo.push(coarseIndex(a, start[a]));
      hi.push(coarseIndex(a, end));
    }
    for (let z = lo[0]; z <= hi[0]; z++) for (let y = lo[1]; y <= hi[1]; y++) for (let x = lo[2]; x <= hi[2]; x++) if (region.mask[(z * cy + y) * cx + x]) return true;
    return false;
  });
  return { ...plan, tilesTotal, candidate: region };
}

/** The region's bounding box on the fine grid (`lo` inclusive, `hi` exclusive), by the fine→coarse nearest-voxel map the tiles use; null when empty. */
function fineExtent(region: CandidateRegion, fineShape: Shape3, fineSpacing: Shape3): { lo: Shape3; hi: Shape3 } | null {
  if (!region.bounds) return null;
  const [clo, chi] = region.bounds;
  const lo = perAxis(() => 0);
  const hi = perAxis(() => 0);
  for (const a of AXES) {
    const nearest = nearestIndices(region.shape[a], 0, fineShape[a], fineSpacing[a] / region.spacing[a]);
    const inside = [...nearest.keys()].filter((i) => nearest[i] >= clo[a] && nearest[i] <= chi[a]);
    if (!inside.length) return null;
    lo[a] = inside[0];
    hi[a] = inside[inside.length - 1] + 1;
  }
  return { lo, hi };
}

/** The bounding box (`lo`, `hi` inclusive, per axis) of a mask's set voxels; null when none is set. */
function maskBounds(mask: Uint8Array, shape: Shape3): [Shape3, Shape3] | null {
  const [nz, ny, nx] = shape;
  const lo: Shape3 = [nz, ny, nx];
  const hi: Shape3 = [-1, -1, -1];
  for (let z = 0, v = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, v++) {
        if (!mask[v]) continue;
        const at = [z, y, x];
        for (const a of AXES) {
          if (at[a] < lo[a]) lo[a] = at[a];
          if (at[a] > hi[a]) hi[a] = at[a];
        }
      }
    }
  }
  return hi[0] < 0 ? null : [lo, hi];
}

/**
 * Clears labels of fine voxels (a box of the fine grid starting at `start`) whose nearest coarse
 * voxel lies outside the candidate region: as in Roth et al., stage 2 segments inside the
 * region only, so a tile's far corners cannot add organs stage 1 saw nowhere near.
 */
export function maskToCandidate(labels: Uint8Array, start: Shape3, size: Shape3, fineSpacing: Shape3, region: CandidateRegion, boxLabels: readonly number[] = []): void {
  const idx = AXES.map((a) => nearestIndices(region.shape[a], start[a], size[a], fineSpacing[a] / region.spacing[a]));
  const [, cy, cx] = region.shape;
  // Labels in boxLabels survive anywhere in the region's bounding box (stage 1 may have missed that organ).
  const bounds = boxLabels.length ? region.bounds : null;
  const inBox = (a: number, i: number) => !!bounds && i >= bounds[0][a] && i <= bounds[1][a];
  let v = 0;
  for (let z = 0; z < size[0]; z++) {
    for (let y = 0; y < size[1]; y++) {
      const row = (idx[0][z] * cy + idx[1][y]) * cx;
      const rowInBox = inBox(0, idx[0][z]) && inBox(1, idx[1][y]);
      for (let x = 0; x < size[2]; x++, v++) {
        if (region.mask[row + idx[2][x]]) continue;
        if (rowInBox && inBox(2, idx[2][x]) && boxLabels.includes(labels[v])) continue;
        labels[v] = 0;
      }
    }
  }
}

/** Every fine tile: the single-stage baseline the benchmarks compare the cascade against. */
export function allTiles(input: CanonicalInput, config: CascadeConfig): TilePlan {
  return tilesWhere(fineGrid(input, config.fine), () => true);
}

/**
 * Stage 2 on the planned tiles, blending overlaps with Gaussian-weighted softmax. Fine data and
 * probabilities exist only for the box holding the tiles; voxels no tile covered are background.
 * Then argmax over all the model's classes, served labels, and small components removed.
 */
export async function fineStage(input: CanonicalInput, plan: TilePlan, config: CascadeConfig, infer: Infer, progress: CascadeProgress): Promise<FineResult | null> {
  const { tiles, shape } = plan;
  if (!tiles.length) return null;
  const f = config.fine;
  const lo = perAxis((a) => Math.min(...tiles.map((t) => t[a])));
  const hi = perAxis((a) => Math.max(...tiles.map((t) => t[a])) + f.patchZYX[a]);
  const box = perAxis((a) => hi[a] - lo[a]);
  const inside = perAxis((a) => Math.max(0, Math.min(hi[a], shape[a]) - lo[a]));
  const image = normalise(resampleLinear(input.image, input.shape, input.spacing, f.spacingZYX, lo, inside), f);
  const boxImage = padInto(image, inside, box, f.padMode === 'edge' ? 'edge' : normalisedPad(f));
  const boxVoxels = voxelCount(box);
  const accumulator = new Float32Array(f.classes * boxVoxels);
  const ran = new Uint8Array(boxVoxels);
  const weight = gaussianImportance(f.patchZYX, f.gaussianSigmaFraction);
  const [pz, py, px] = f.patchZYX;
  for (const [n, tile] of tiles.entries()) {
    await progress(0.25 + (0.6 * n) / tiles.length, CascadeStep.Stage2, `stage 2: tile ${n + 1}/${tiles.length}`);
    const start = perAxis((a) => tile[a] - lo[a]);
    const logits = await infer(f.model, extractBox(boxImage, box, start, f.patchZYX), f.patchZYX);
    accumulateSoftmax(logits, f.classes, weight, accumulator, { shape: box, start, size: f.patchZYX });
    for (let z = 0; z < pz; z++) {
      for (let y = 0; y < py; y++) {
        const from = ((start[0] + z) * box[1] + start[1] + y) * box[2] + start[2];
        ran.fill(1, from, from + px);
      }
    }
  }
  await progress(0.85, CascadeStep.PostProcessing, 'post-processing');
  const boxLabels = toServedLabels(argmaxClasses(accumulator, f.classes, boxVoxels), f);
  for (let v = 0; v < boxVoxels; v++) if (!ran[v]) boxLabels[v] = 0;
  // Keep the part of the box on the fine grid, then clean up small components there.
  const insideLabels = extractBox(boxLabels, box, ORIGIN, inside);
  if (f.maskToCandidate && plan.candidate) maskToCandidate(insideLabels, lo, inside, f.spacingZYX, plan.candidate, f.boxMaskLabels);
  const ranInside = extractBox(ran, box, ORIGIN, inside).reduce((sum, r) => sum + r, 0);
  const voxelMm3 = f.spacingZYX[0] * f.spacingZYX[1] * f.spacingZYX[2];
  const labels = filterComponents(insideLabels, inside, [...config.labels.values()], f.minComponentMm3 / voxelMm3);
  return {
    labels: { labels, spacing: f.spacingZYX, shape, start: lo, size: inside },
    summary: { tiles: tiles.length, tilesTotal: plan.tilesTotal, voxelFraction: ranInside / voxelCount(shape) },
  };
}

/**
 * Nearest-neighbour labels on the input's canonical grid: each input voxel takes the label of
 * the nearest voxel of the labelled grid (clamped to that grid, as the Python evaluator does);
 * input voxels whose nearest voxel lies outside the labelled box are background.
 */
export function toInputGrid(region: GridLabels | null, input: CanonicalInput): Uint8Array {
  const { shape } = input;
  const out = new Uint8Array(voxelCount(shape));
  if (!region) return out;
  const { start, size } = region;
  const idx = AXES.map((a) => nearestIndices(region.shape[a], 0, shape[a], input.spacing[a] / region.spacing[a]).map((i) => i - start[a]));
  const within = (a: number, i: number) => i >= 0 && i < size[a];
  let v = 0;
  for (let z = 0; z < shape[0]; z++) {
    const bz = idx[0][z];
    for (let y = 0; y < shape[1]; y++) {
      const by = idx[1][y];
      for (let x = 0; x < shape[2]; x++, v++) {
        const bx = idx[2][x];
        if (within(0, bz) && within(1, by) && within(2, bx)) out[v] = region.labels[(bz * size[1] + by) * size[2] + bx];
      }
    }
  }
  return out;
}

/** Milliseconds per named step, each measured from the end of the one before. */
function stopwatch(): { lap: (name: string) => void; timings: Record<string, number> } {
  const timings: Record<string, number> = {};
  let clock = performance.now();
  return {
    timings,
    lap: (name) => {
      const now = performance.now();
      timings[name] = Math.round(now - clock);
      clock = now;
    },
  };
}

function result(volume: Volume, input: CanonicalInput, labels: Uint8Array, timingsMs: Record<string, number>, stage2: Stage2Summary | null): CascadeResult {
  return { labels: fromCanonical(labels, volume.size, input.map), canonical: { ...input, labels }, timingsMs, stage2 };
}

/**
 * Roth et al.'s cascade: `coarseStage` segments the whole volume at a coarse spacing; the
 * largest component of each organ, dilated, is the candidate region (`candidateTiles`);
 * `fineStage` runs only the fine tiles touching it; `toInputGrid` brings the labels back onto
 * the input's grid. Labels are uint8 throughout.
 */
export async function runCascade(volume: Volume, config: CascadeConfig, infer: Infer, options: CascadeOptions, progress: CascadeProgress): Promise<CascadeResult> {
  const clock = stopwatch();
  const input = canonicalInput(volume);
  await progress(0.1, CascadeStep.Stage1, 'stage 1: coarse segmentation');
  const coarse = await coarseStage(input, config, infer);
  clock.lap('stage1');
  let region: GridLabels | null = coarse;
  let stage2: Stage2Summary | null = null;
  if (!options.fast) {
    await progress(0.2, CascadeStep.CandidateRegion, 'candidate region');
    const plan = candidateTiles(coarse, input, config);
    clock.lap('candidateRegion');
    const fine = await fineStage(input, plan, config, infer, progress);
    if (fine) clock.lap('stage2');
    region = fine?.labels ?? null;
    stage2 = fine?.summary ?? { tiles: 0, tilesTotal: plan.tilesTotal, voxelFraction: 0 };
  }
  const labels = keepLabels(toInputGrid(region, input), options.organs);
  clock.lap('postprocess');
  return result(volume, input, labels, clock.timings, stage2);
}

/**
 * Benchmark only: the baseline Roth et al. compare against — the fine model on every tile, no
 * stage 1 (bench/segmentation/cascade-vs-single.ts).
 */
export async function runSingleStage(volume: Volume, config: CascadeConfig, infer: Infer): Promise<CascadeResult> {
  const clock = stopwatch();
  const input = canonicalInput(volume);
  const plan = allTiles(input, config);
  const fine = await fineStage(input, plan, config, infer, async () => {});
  clock.lap('stage2');
  return result(volume, input, toInputGrid(fine?.labels ?? null, input), clock.timings, fine?.summary ?? null);
}
