import type { ModelCard } from '@lumen/inference';
import type { Shape3 } from '@lumen/volumes';

/** The organs Lumen serves. */
export enum Organ {
  liver = 'liver',
  spleen = 'spleen',
  pancreas = 'pancreas',
}

/**
 * Label id of each served organ in every label map Lumen returns, whatever classes the models
 * predict (also the API's default reference label ids).
 */
export const ORGAN_LABELS: Readonly<Record<Organ, number>> = { [Organ.liver]: 1, [Organ.spleen]: 2, [Organ.pancreas]: 3 };

const ORGANS = Object.values(Organ);
const isOrgan = (name: unknown): name is Organ => ORGANS.includes(name as Organ);

export type StageConfig = {
  model: string;
  version: string;
  /** Channels of the model's logits (its output classes, background included). */
  classes: number;
  /**
   * Model class → served label id (ORGAN_LABELS), 0 for background and for every class that is
   * not a served organ. Length `classes`.
   */
  classToLabel: Uint8Array;
  /** Isotropic or not, in canonical array order [z, y, x]. */
  spacingZYX: Shape3;
  clipHu: [number, number];
  mean: number;
  std: number;
  sizeDivisor: number;
  padValueHu: number;
};

export type FineStageConfig = StageConfig & {
  patchZYX: Shape3;
  strideZYX: Shape3;
  gaussianSigmaFraction: number;
  dilationMm: number;
  minComponentMm3: number;
  /**
   * How tiles reaching past the end of a volume smaller than a patch are filled: `constant`
   * (padValueHu) or `edge` (the border slices repeated: a truncated field of view continues).
   */
  padMode: 'constant' | 'edge';
  /** Stage-2 labels outside the dilated stage-1 region become background (card `maskToCandidate`, default false). */
  maskToCandidate: boolean;
  /** Output labels that maskToCandidate keeps anywhere in the region's bounding box (card `boxMaskOrgans`, organ names). */
  boxMaskLabels: number[];
};

export type CascadeConfig = {
  coarse: StageConfig;
  fine: FineStageConfig;
  /** Served organ → its label id in the output (the organs both stages predict). */
  labels: Map<Organ, number>;
};

/** Card `labels` as id → name, whether written as an object or as a list indexed by id. */
function cardLabels(card: ModelCard): Map<number, string> {
  const labels = card.labels ?? {};
  const entries = Array.isArray(labels) ? labels.map((name, id) => [id, name] as const) : Object.entries(labels).map(([id, name]) => [Number(id), name] as const);
  return new Map(entries);
}

/**
 * Served organ → model class of one stage. An explicit card field `servedOrgans`
 * ({"liver": 6, "spleen": 1, ...}) wins; without it, every card label named like a served
 * organ is that organ.
 */
function organClasses(card: ModelCard): Map<Organ, number> {
  const explicit = card.servedOrgans;
  const pairs: [unknown, unknown][] =
    explicit === undefined
      ? [...cardLabels(card)].map(([id, name]) => [name, id])
      : typeof explicit === 'object' && explicit !== null && !Array.isArray(explicit)
        ? Object.entries(explicit)
        : [['servedOrgans', explicit]];
  const classes = new Map<Organ, number>();
  for (const [organ, id] of pairs) {
    if (!isOrgan(organ)) {
      if (explicit === undefined) continue; // another structure the model predicts: background for us
      throw new Error(`model card ${card.name}: servedOrgans must map ${ORGANS.join(', ')} to class ids; "${String(organ)}" is not one of them`);
    }
    if (!Number.isInteger(id) || (id as number) < 1) throw new Error(`model card ${card.name}: class id of ${organ} must be a positive integer`);
    classes.set(organ, id as number);
  }
  if (classes.size === 0) throw new Error(`model card ${card.name}: labels (or servedOrgans) must map class ids to ${ORGANS.join(', ')}`);
  return classes;
}

/** Channels of the `logits` output: its declared size, else the highest label id + 1. */
function classCount(card: ModelCard, organs: Map<Organ, number>): number {
  const logits = card.outputs.find((o) => o.name === 'logits') ?? card.outputs[0];
  const declared = logits?.shape[1];
  const count = typeof declared === 'number' ? declared : Math.max(0, ...cardLabels(card).keys(), ...organs.values()) + 1;
  const beyond = [...organs].filter(([, id]) => id >= count);
  if (beyond.length) throw new Error(`model card ${card.name}: ${beyond.map(([o, id]) => `${o} (class ${id})`).join(', ')} beyond the model's ${count} classes`);
  return count;
}

function stage(card: ModelCard, served: readonly Organ[]): StageConfig {
  const p = (card.preprocessing ?? {}) as Record<string, unknown>;
  const spacing = p.spacingMmXYZ as number[] | undefined;
  const clip = p.clipHu as number[] | undefined;
  const normalise = p.normalise as { mean?: number; std?: number } | undefined;
  if (p.orientation !== 'LPS' || spacing?.length !== 3 || clip?.length !== 2 || typeof normalise?.mean !== 'number' || typeof normalise?.std !== 'number') {
    throw new Error(`model card ${card.name}: preprocessing needs orientation LPS, spacingMmXYZ, clipHu and normalise {mean, std}`);
  }
  const organs = organClasses(card);
  const classes = classCount(card, organs);
  const classToLabel = new Uint8Array(classes);
  for (const organ of served) {
    const id = organs.get(organ);
    if (id === undefined) throw new Error(`model card ${card.name}: predicts no ${organ}, which the other stage serves`);
    classToLabel[id] = ORGAN_LABELS[organ];
  }
  return {
    model: card.name,
    version: card.version,
    classes,
    classToLabel,
    spacingZYX: [spacing[2], spacing[1], spacing[0]],
    clipHu: [clip[0], clip[1]],
    mean: normalise.mean,
    std: normalise.std,
    sizeDivisor: Number(p.sizeDivisor ?? 1),
    padValueHu: Number(p.padValueHu ?? clip[0]),
  };
}

function padMode(card: ModelCard, value: unknown): 'constant' | 'edge' {
  if (value === undefined || value === 'constant' || value === 'edge') return value ?? 'constant';
  throw new Error(`model card ${card.name}: preprocessing.padMode must be "constant" or "edge"`);
}

/** Card `boxMaskOrgans` (organ names) as output labels. */
function boxMaskLabels(card: ModelCard, organs: unknown): number[] {
  if (organs === undefined) return [];
  if (!Array.isArray(organs) || organs.some((o) => !(ORGANS as readonly unknown[]).includes(o))) {
    throw new Error(`model card ${card.name}: preprocessing.boxMaskOrgans must list organs among ${ORGANS.join(', ')}`);
  }
  return organs.map((o: Organ) => ORGAN_LABELS[o]);
}

/**
 * Reads both stages' cards into one typed configuration (throws naming what is missing). The
 * served organs are those stage 1 predicts; stage 2 must predict each of them. Either model may
 * predict more classes: those count as background.
 */
export function cascadeConfigFromCards(coarse: ModelCard, fine: ModelCard): CascadeConfig {
  const p = (fine.preprocessing ?? {}) as Record<string, unknown>;
  const patch = p.patchSizeZYX as number[] | undefined;
  const stride = p.tileStrideZYX as number[] | undefined;
  if (patch?.length !== 3 || stride?.length !== 3) throw new Error(`model card ${fine.name}: preprocessing needs patchSizeZYX and tileStrideZYX`);
  const served = ORGANS.filter((organ) => organClasses(coarse).has(organ));
  return {
    coarse: stage(coarse, served),
    fine: {
      ...stage(fine, served),
      patchZYX: patch as Shape3,
      strideZYX: stride as Shape3,
      gaussianSigmaFraction: Number(p.gaussianSigmaFraction ?? 0.125),
      dilationMm: Number(p.dilationMm ?? 10),
      // null: keep only the largest component of each organ
      minComponentMm3: p.minComponentMm3 === null ? Number.POSITIVE_INFINITY : Number(p.minComponentMm3 ?? 0),
      padMode: padMode(fine, p.padMode),
      maskToCandidate: p.maskToCandidate === true,
      boxMaskLabels: boxMaskLabels(fine, p.boxMaskOrgans),
    },
    labels: new Map(served.map((organ) => [organ, ORGAN_LABELS[organ]])),
  };
}
