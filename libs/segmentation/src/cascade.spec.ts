import type { ModelCard } from '@lumen/inference';
import type { Shape3, Volume } from '@lumen/volumes';
import { type CascadeConfig, ORGAN_LABELS, Organ, cascadeConfigFromCards } from './cascade-config.js';
import { CascadeStep, type Infer, allTiles, canonicalInput, candidateRegion, candidateTiles, coarseStage, maskToCandidate, padInto, runCascade, runSingleStage, toInputGrid } from './cascade.js';
import { tileStartsCovering } from './kernels/tiles.js';

/*
 * A synthetic volume whose voxel values encode what a perfect model would say: value =
 * truth + 10 × (canonical voxel index), truth 0 background, 1 liver, 2 spleen, 3 pancreas,
 * 4 a structure we do not serve (a kidney). The cards clip nothing and normalise to the identity,
 * and the grids are chosen so that resampling only picks voxels (no interpolation), so the fake
 * models read the truth and the position of every voxel they are given.
 */
const SHAPE: Shape3 = [16, 24, 24]; // canonical [z, y, x], 2 mm voxels
const KIDNEY = 4;
const [NZ, NY, NX] = SHAPE;

function truthAt(z: number, y: number, x: number): number {
  if (z >= 2 && z < 6 && y >= 2 && y < 8 && x >= 2 && x < 8) return ORGAN_LABELS[Organ.liver];
  if (z >= 10 && z < 14 && y >= 16 && y < 22 && x >= 16 && x < 22) return ORGAN_LABELS[Organ.spleen];
  if (z >= 10 && z < 12 && y >= 2 && y < 4 && x >= 18 && x < 20) return ORGAN_LABELS[Organ.pancreas];
  if (z >= 2 && z < 4 && y >= 18 && y < 20 && x >= 2 && x < 4) return KIDNEY;
  return 0;
}

const TRUTH = Uint8Array.from({ length: NZ * NY * NX }, (_, v) => truthAt(Math.floor(v / (NY * NX)), Math.floor(v / NX) % NY, v % NX));

/** Identity direction: index axes i, j, k are x, y, z, so the canonical array is the stored one. */
const VOLUME: Volume = {
  size: [NX, NY, NZ],
  spacing: [2, 2, 2],
  origin: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  data: Float32Array.from(TRUTH, (t, v) => t + 10 * v),
  componentType: 'float32',
};

const decode = (value: number) => ({ truth: Math.round(value) % 10, voxel: Math.floor(Math.round(value) / 10) });

type Classes = { count: number; of: (truth: number) => number };
/** Today's models: 0 background, 1 liver, 2 spleen, 3 pancreas; the kidney is background. */
const FOUR: Classes = { count: 4, of: (t) => (t === KIDNEY ? 0 : t) };
/** A pretrained 9-class net: 0 background, 1 spleen, 2 pancreas, 3 left kidney, 6 liver. */
const NINE: Classes = { count: 9, of: (t) => [0, 6, 1, 2, 3][t] };
const NINE_LABELS = { 0: 'background', 1: 'spleen', 2: 'pancreas', 3: 'left kidney', 4: 'gallbladder', 5: 'oesophagus', 6: 'liver', 7: 'stomach', 8: 'duodenum' };

function card(name: string, task: string, classes: Classes, extra: Partial<ModelCard> & { servedOrgans?: unknown } = {}): ModelCard {
  const fine = task === 'segmentation-fine';
  return {
    name,
    version: '1',
    task,
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 1, 'z', 'y', 'x'] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, classes.count, 'z', 'y', 'x'] }],
    preprocessing: {
      orientation: 'LPS',
      spacingMmXYZ: fine ? [2, 2, 2] : [4, 4, 4],
      clipHu: [-1e9, 1e9],
      normalise: { mean: 0, std: 1 },
      sizeDivisor: 1,
      ...(fine ? { patchSizeZYX: [8, 8, 8], tileStrideZYX: [8, 8, 8], dilationMm: 4, minComponentMm3: 0 } : {}),
    },
    labels: classes === NINE ? NINE_LABELS : { 1: 'liver', 2: 'spleen', 3: 'pancreas' },
    ...extra,
  };
}

function config(classes: Classes = FOUR): CascadeConfig {
  return cascadeConfigFromCards(card('coarse', 'segmentation-coarse', classes), card('fine', 'segmentation-fine', classes));
}

type Call = { model: string; shape: Shape3; firstVoxel: number };

/**
 * A perfect model with `classes`: logit 10 for the true class. Where the truth is the kidney
 * the served organ it touches scores 8, so only an argmax over all classes finds background.
 */
function fakeModel(classes: Classes): { infer: Infer; calls: Call[] } {
  const calls: Call[] = [];
  const infer: Infer = async (model, input, shape) => {
    calls.push({ model, shape, firstVoxel: decode(input[0]).voxel });
    const voxels = input.length;
    const logits = new Float32Array(classes.count * voxels);
    for (let v = 0; v < voxels; v++) {
      const { truth } = decode(input[v]);
      logits[classes.of(truth) * voxels + v] = 10;
      if (truth === KIDNEY && classes.of(KIDNEY) !== 0) logits[classes.of(ORGAN_LABELS[Organ.liver]) * voxels + v] = 8;
    }
    return logits;
  };
  return { infer, calls };
}

const servedTruth = (keep: number[] = [1, 2, 3]) => TRUTH.map((t) => (keep.includes(t) ? t : 0));
const noProgress = async () => {};
const voxelIndex = (z: number, y: number, x: number) => (z * NY + y) * NX + x;

describe('cascadeConfigFromCards', () => {
  it("maps today's cards class for class (4 classes, labels by organ name)", () => {
    const c = config();
    expect(c.coarse.classes).toBe(4);
    expect([...c.coarse.classToLabel]).toEqual([0, 1, 2, 3]);
    expect([...c.fine.classToLabel]).toEqual([0, 1, 2, 3]);
    expect([...c.labels]).toEqual([[Organ.liver, 1], [Organ.spleen, 2], [Organ.pancreas, 3]]);
  });

  it('takes the class count from the logits output and maps a 9-class net by label name, the rest to background', () => {
    const c = config(NINE);
    expect(c.coarse.classes).toBe(9);
    expect([...c.coarse.classToLabel]).toEqual([0, 2, 3, 0, 0, 0, 1, 0, 0]);
    expect([...c.fine.classToLabel]).toEqual([0, 2, 3, 0, 0, 0, 1, 0, 0]);
  });

  it('prefers an explicit servedOrgans mapping over label names', () => {
    const coarse = card('coarse', 'segmentation-coarse', NINE, { servedOrgans: { liver: 6, spleen: 1 } });
    const c = cascadeConfigFromCards(coarse, card('fine', 'segmentation-fine', NINE));
    expect([...c.labels.keys()]).toEqual([Organ.liver, Organ.spleen]);
    expect([...c.coarse.classToLabel]).toEqual([0, 2, 0, 0, 0, 0, 1, 0, 0]);
    expect([...c.fine.classToLabel]).toEqual([0, 2, 0, 0, 0, 0, 1, 0, 0]);
  });

  it('refuses a fine model missing a served organ, a class beyond the logits and an unknown organ', () => {
    const fineWithoutPancreas = card('fine', 'segmentation-fine', FOUR, { labels: { 1: 'liver', 2: 'spleen' } });
    expect(() => cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), fineWithoutPancreas)).toThrow(/fine: predicts no pancreas/);
    const beyond = card('coarse', 'segmentation-coarse', FOUR, { labels: { 1: 'liver', 4: 'spleen' } });
    expect(() => cascadeConfigFromCards(beyond, card('fine', 'segmentation-fine', FOUR))).toThrow(/spleen \(class 4\) beyond the model's 4 classes/);
    const unknown = card('coarse', 'segmentation-coarse', NINE, { servedOrgans: { kidney: 3 } });
    expect(() => cascadeConfigFromCards(unknown, card('fine', 'segmentation-fine', NINE))).toThrow(/"kidney" is not one of them/);
  });
});

describe('fine-stage padding', () => {
  it('reads padMode from the fine card: constant by default, edge when asked, anything else refused', () => {
    expect(config().fine.padMode).toBe('constant');
    const edge = card('fine', 'segmentation-fine', FOUR);
    (edge.preprocessing as Record<string, unknown>).padMode = 'edge';
    expect(cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), edge).fine.padMode).toBe('edge');
    (edge.preprocessing as Record<string, unknown>).padMode = 'reflect';
    expect(() => cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), edge)).toThrow(/padMode must be "constant" or "edge"/);
  });

  it('pads with a constant, or repeats the last voxel along each axis like numpy pad mode "edge"', () => {
    // 2 x 2 x 2 source -> 3 x 3 x 3 box
    const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const at = (a: Float32Array, z: number, y: number, x: number) => a[(z * 3 + y) * 3 + x];
    const constant = padInto(src, [2, 2, 2], [3, 3, 3], -9);
    expect([at(constant, 0, 0, 0), at(constant, 1, 1, 1), at(constant, 0, 0, 2), at(constant, 2, 0, 0)]).toEqual([1, 8, -9, -9]);
    const edge = padInto(src, [2, 2, 2], [3, 3, 3], 'edge');
    const expected = Array.from({ length: 27 }, (_, v) => src[(Math.min(Math.floor(v / 9), 1) * 2 + Math.min(Math.floor(v / 3) % 3, 1)) * 2 + Math.min(v % 3, 1)]);
    expect([...edge]).toEqual(expected);
  });
});

describe('maskToCandidate', () => {
  it('clears fine voxels whose nearest coarse voxel is outside the region, with the index convention of the resamplers', () => {
    // fine 2 mm voxels x = 0..3 (box starting at x = 1: 1..4) -> nearest coarse 4 mm index floor(x / 2 + 0.5): 1, 1, 2, 2 -> clamped to 1
    const labels = Uint8Array.from([1, 2, 3, 1]);
    maskToCandidate(labels, [0, 0, 1], [1, 1, 4], [2, 2, 2], candidateRegion(Uint8Array.from([0, 1]), [1, 1, 2], [4, 4, 4]));
    expect([...labels]).toEqual([1, 2, 3, 1]);
    const cleared = Uint8Array.from([1, 2, 3, 1]);
    maskToCandidate(cleared, [0, 0, 0], [1, 1, 4], [2, 2, 2], candidateRegion(Uint8Array.from([1, 0]), [1, 1, 2], [4, 4, 4]));
    expect([...cleared]).toEqual([1, 0, 0, 0]);
  });

  it('keeps the box-masked labels anywhere in the region\'s bounding box, and nothing outside it', () => {
    // Coarse 1×1×5 at 2 mm (fine grid the same): region = coarse x 1 and 3; its box is x 1..3.
    const region = candidateRegion(Uint8Array.from([0, 1, 0, 1, 0]), [1, 1, 5], [2, 2, 2]);
    const labels = Uint8Array.from([3, 2, 3, 2, 3]);
    maskToCandidate(labels, [0, 0, 0], [1, 1, 5], [2, 2, 2], region, [3]);
    // x 0, 4: outside the box, cleared whatever the label; x 2: outside the region, inside the box: pancreas (3) kept.
    expect([...labels]).toEqual([0, 2, 3, 2, 0]);
    const spleenInGap = Uint8Array.from([3, 2, 2, 2, 3]);
    maskToCandidate(spleenInGap, [0, 0, 0], [1, 1, 5], [2, 2, 2], region, [3]);
    expect([...spleenInGap]).toEqual([0, 2, 0, 2, 0]);
  });

  it('reads boxMaskOrgans from the fine card as output labels, and refuses unknown organs', () => {
    const fine = card('fine', 'segmentation-fine', FOUR);
    Object.assign(fine.preprocessing as Record<string, unknown>, { boxMaskOrgans: ['pancreas'] });
    expect(cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), fine).fine.boxMaskLabels).toEqual([3]);
    Object.assign(fine.preprocessing as Record<string, unknown>, { boxMaskOrgans: ['kidney'] });
    expect(() => cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), fine)).toThrow('boxMaskOrgans must list organs among');
  });

  it('reads maskToCandidate and a null minComponentMm3 (largest component only) from the fine card', () => {
    const fine = card('fine', 'segmentation-fine', FOUR);
    Object.assign(fine.preprocessing as Record<string, unknown>, { maskToCandidate: true, minComponentMm3: null });
    const c = cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), fine);
    expect([c.fine.maskToCandidate, c.fine.minComponentMm3]).toEqual([true, Number.POSITIVE_INFINITY]);
    expect([config().fine.maskToCandidate, config().fine.minComponentMm3]).toEqual([false, 0]);
  });

  it('makes stage 2 leave voxels outside the dilated stage-1 region unlabelled', async () => {
    // One tile covers the whole volume, so the fine model labels the spleen whatever stage 1 saw.
    const withMask = (mask: boolean) => {
      const fine = card('fine', 'segmentation-fine', FOUR);
      Object.assign(fine.preprocessing as Record<string, unknown>, { patchSizeZYX: SHAPE, tileStrideZYX: SHAPE, maskToCandidate: mask });
      return cascadeConfigFromCards(card('coarse', 'segmentation-coarse', FOUR), fine);
    };
    // A coarse model that sees only the liver.
    const liverOnly: Classes = { count: 4, of: (t) => (t === ORGAN_LABELS[Organ.liver] ? t : 0) };
    const infer: Infer = async (model, input, shape) => (model === 'coarse' ? fakeModel(liverOnly) : fakeModel(FOUR)).infer(model, input, shape);
    const run = (mask: boolean) => runCascade(VOLUME, withMask(mask), infer, { fast: false, organs: [1, 2, 3] }, noProgress);
    const [masked, unmasked] = [await run(true), await run(false)];
    expect(unmasked.labels.includes(ORGAN_LABELS[Organ.spleen])).toBe(true);
    expect(masked.labels.includes(ORGAN_LABELS[Organ.spleen])).toBe(false);
    // Masking only removes labels: what is left agrees with the unmasked run, and most of the liver stays.
    expect(masked.labels.every((l, v) => l === 0 || l === unmasked.labels[v])).toBe(true);
    expect(masked.labels.filter((l) => l === ORGAN_LABELS[Organ.liver]).length).toBeGreaterThan(0.8 * servedTruth([1]).filter((l) => l === 1).length);
  });
});

describe('coarseStage', () => {
  it.each([['4', FOUR], ['9', NINE]] as const)('runs the coarse model once on the whole %s-class volume and returns served labels on the coarse grid', async (_, classes) => {
    const { infer, calls } = fakeModel(classes);
    const coarse = await coarseStage(canonicalInput(VOLUME), config(classes), infer);
    expect(calls).toEqual([{ model: 'coarse', shape: [8, 12, 12], firstVoxel: 0 }]);
    expect(coarse.shape).toEqual([8, 12, 12]);
    // Coarse voxel (z, y, x) is input voxel (2z, 2y, 2x); the kidney is background in both.
    const expected = Uint8Array.from({ length: 8 * 12 * 12 }, (_, v) => servedTruth()[voxelIndex(2 * Math.floor(v / 144), 2 * (Math.floor(v / 12) % 12), 2 * (v % 12))]);
    expect(coarse.labels).toEqual(expected);
  });
});

describe('candidateTiles', () => {
  it('plans exactly the tiles of the region-anchored grid touching the dilated stage-1 region, and the fine model runs on those alone', async () => {
    const cfg = config();
    const input = canonicalInput(VOLUME);
    const coarse = await coarseStage(input, cfg, fakeModel(FOUR).infer);
    const plan = candidateTiles(coarse, input, cfg);
    expect(plan.tilesTotal).toBe(2 * 3 * 3);
    expect(allTiles(input, cfg).tiles).toHaveLength(18);

    // Brute force: a tile runs when one of its fine voxels' nearest coarse voxel lies within
    // 4 mm of a stage-1 organ voxel.
    const organ: Shape3[] = [];
    for (let v = 0; v < coarse.labels.length; v++) if (coarse.labels[v]) organ.push([Math.floor(v / 144), Math.floor(v / 12) % 12, v % 12]);
    const inRegion = (z: number, y: number, x: number) => organ.some(([oz, oy, ox]) => 16 * ((oz - z) ** 2 + (oy - y) ** 2 + (ox - x) ** 2) <= 16);
    const near = (i: number, n: number) => Math.min(Math.floor(i / 2 + 0.5), n - 1);
    const fineInRegion = (z: number, y: number, x: number) => inRegion(near(z, 8), near(y, 12), near(x, 12));
    // The grid is laid from the region's bounding box on the fine grid (16×24×24 voxels).
    const lo = [Infinity, Infinity, Infinity];
    const hi = [0, 0, 0];
    for (let z = 0; z < 16; z++) {
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 24; x++) {
          if (!fineInRegion(z, y, x)) continue;
          [z, y, x].forEach((c, a) => ((lo[a] = Math.min(lo[a], c)), (hi[a] = Math.max(hi[a], c + 1))));
        }
      }
    }
    const [zs, ys, xs] = [16, 24, 24].map((n, a) => tileStartsCovering(n, 8, 8, lo[a], hi[a]));
    const grid = zs.flatMap((z) => ys.flatMap((y) => xs.map((x) => [z, y, x] as Shape3)));
    const expected = grid.filter(([tz, ty, tx]) => {
      for (let z = tz; z < tz + 8; z++) for (let y = ty; y < ty + 8; y++) for (let x = tx; x < tx + 8; x++) if (fineInRegion(z, y, x)) return true;
      return false;
    });
    expect(plan.tiles).toEqual(expected);
    expect(plan.tiles.length).toBeGreaterThan(0);
    expect(plan.tiles.length).toBeLessThan(plan.tilesTotal);
    const ranVoxels = new Set(expected.flatMap(([tz, ty, tx]) => Array.from({ length: 512 }, (_, v) => voxelIndex(tz + (v >> 6), ty + ((v >> 3) & 7), tx + (v & 7))))).size;

    const { infer, calls } = fakeModel(FOUR);
    const result = await runCascade(VOLUME, cfg, infer, { fast: false, organs: [1, 2, 3] }, noProgress);
    const fineCalls = calls.filter((c) => c.model === 'fine');
    expect(fineCalls.map((c) => c.firstVoxel)).toEqual(expected.map(([z, y, x]) => voxelIndex(z, y, x)));
    expect(fineCalls.every((c) => c.shape.join() === '8,8,8')).toBe(true);
    expect(result.stage2).toEqual({ tiles: expected.length, tilesTotal: 18, voxelFraction: ranVoxels / TRUTH.length });
  });

  it('plans no tile when stage 1 finds nothing', async () => {
    const cfg = config();
    const input = canonicalInput(VOLUME);
    const plan = candidateTiles({ ...(await coarseStage(input, cfg, fakeModel(FOUR).infer)), labels: new Uint8Array(8 * 12 * 12) }, input, cfg);
    expect(plan.tiles).toEqual([]);
  });
});

describe('runCascade', () => {
  it.each([['4', FOUR], ['9', NINE]] as const)('returns the served organs on the input grid with a %s-class model (other classes are background)', async (_, classes) => {
    const { infer } = fakeModel(classes);
    const steps: CascadeStep[] = [];
    const result = await runCascade(VOLUME, config(classes), infer, { fast: false, organs: [1, 2, 3] }, async (_f, step) => void steps.push(step));
    expect(result.labels).toHaveLength(TRUTH.length);
    expect(result.labels).toEqual(servedTruth());
    expect(result.canonical.shape).toEqual(SHAPE);
    expect(new Set(steps)).toEqual(new Set([CascadeStep.Stage1, CascadeStep.CandidateRegion, CascadeStep.Stage2, CascadeStep.PostProcessing]));
    expect(Object.keys(result.timingsMs)).toEqual(['stage1', 'candidateRegion', 'stage2', 'postprocess']);
  });

  it('keeps only the chosen organs', async () => {
    const result = await runCascade(VOLUME, config(), fakeModel(FOUR).infer, { fast: false, organs: [ORGAN_LABELS[Organ.spleen]] }, noProgress);
    expect(result.labels).toEqual(servedTruth([2]));
  });

  it('skips stage 2 when fast: one coarse call, labels brought back to the input grid by nearest neighbour', async () => {
    const { infer, calls } = fakeModel(FOUR);
    const steps: CascadeStep[] = [];
    const result = await runCascade(VOLUME, config(), infer, { fast: true, organs: [1, 3] }, async (_f, step) => void steps.push(step));
    expect(calls.map((c) => c.model)).toEqual(['coarse']);
    expect(steps).toEqual([CascadeStep.Stage1]);
    expect(result.stage2).toBeNull();
    // Input voxel i takes coarse voxel round-half-up(i / 2), i.e. input voxel 2 × that.
    const from = (i: number, n: number) => 2 * Math.min(Math.floor(i / 2 + 0.5), n / 2 - 1);
    const expected = Uint8Array.from({ length: TRUTH.length }, (_, v) => servedTruth([1, 3])[voxelIndex(from(Math.floor(v / (NY * NX)), NZ), from(Math.floor(v / NX) % NY, NY), from(v % NX, NX))]);
    expect(result.labels).toEqual(expected);
  });

  it('returns labels in the input voxel order when the input is not stored in LPS order', async () => {
    // Flip x: index i runs towards patient right. Same voxels, stored mirrored.
    const mirrored = new Float32Array(VOLUME.data.length);
    for (let v = 0; v < mirrored.length; v++) mirrored[v] = VOLUME.data[v - (v % NX) + (NX - 1 - (v % NX))];
    const flipped: Volume = { ...VOLUME, data: mirrored, direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const result = await runCascade(flipped, config(), fakeModel(FOUR).infer, { fast: false, organs: [1, 2, 3] }, noProgress);
    const expected = servedTruth().map((_, v) => servedTruth()[v - (v % NX) + (NX - 1 - (v % NX))]);
    expect(result.labels).toEqual(expected);
    expect(result.canonical.labels).toEqual(servedTruth());
  });
});

describe('runSingleStage (benchmark baseline)', () => {
  it('runs the fine model on every tile and no coarse model', async () => {
    const { infer, calls } = fakeModel(FOUR);
    const result = await runSingleStage(VOLUME, config(), infer);
    expect(calls.map((c) => c.model)).toEqual(Array(18).fill('fine'));
    expect(result.stage2).toEqual({ tiles: 18, tilesTotal: 18, voxelFraction: 1 });
    expect(result.labels).toEqual(servedTruth());
  });
});

describe('toInputGrid', () => {
  it('places a labelled box of a coarser grid on the input grid; the rest is background', () => {
    const input = canonicalInput(VOLUME);
    // A 4 mm grid of 8 × 12 × 12 voxels; the box [1, 2, 3) + [2, 2, 2) holds labels 1..8.
    const box = { labels: Uint8Array.from({ length: 8 }, (_, i) => i + 1), spacing: [4, 4, 4] as Shape3, shape: [8, 12, 12] as Shape3, start: [1, 2, 3] as Shape3, size: [2, 2, 2] as Shape3 };
    const out = toInputGrid(box, input);
    expect(out).toHaveLength(TRUTH.length);
    const coarse = (i: number) => Math.floor(i / 2 + 0.5);
    for (let v = 0; v < out.length; v++) {
      const [cz, cy, cx] = [coarse(Math.floor(v / (NY * NX))), coarse(Math.floor(v / NX) % NY), coarse(v % NX)];
      const inside = cz >= 1 && cz < 3 && cy >= 2 && cy < 4 && cx >= 3 && cx < 5;
      expect([v, out[v]]).toEqual([v, inside ? ((cz - 1) * 2 + (cy - 2)) * 2 + (cx - 3) + 1 : 0]);
    }
    expect(toInputGrid(null, input)).toEqual(new Uint8Array(TRUTH.length));
  });
});
