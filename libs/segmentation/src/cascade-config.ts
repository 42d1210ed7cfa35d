import type { ModelCard } from '@lumen/inference';
import type { Shape3 } from '@lumen/volumes';

/** Label ids the models predict (card.labels). */
export enum Organ {
  liver = 'liver',
  spleen = 'spleen',
  pancreas = 'pancreas',
}

export type StageConfig = {
  model: string;
  version: string;
  /** Isotropic or not, in canonical array order [z, y, x]. */
  spacingZYX: Shape3;
  clipHu: [number, number];
  mean: number;
  std: number;
  sizeDivisor: number;
  padValueHu: number;
};

export type CascadeConfig = {
  coarse: StageConfig;
  fine: StageConfig & { patchZYX: Shape3; strideZYX: Shape3; gaussianSigmaFraction: number; dilationMm: number; minComponentMm3: number };
  /** organ name → label id, from the cards. */
  labels: Map<Organ, number>;
};

function stage(card: ModelCard): StageConfig {
  const p = (card.preprocessing ?? {}) as Record<string, unknown>;
  const spacing = p.spacingMmXYZ as number[] | undefined;
  const clip = p.clipHu as number[] | undefined;
  const normalise = p.normalise as { mean?: number; std?: number } | undefined;
  if (p.orientation !== 'LPS' || spacing?.length !== 3 || clip?.length !== 2 || typeof normalise?.mean !== 'number' || typeof normalise?.std !== 'number') {
    throw new Error(`model card ${card.name}: preprocessing needs orientation LPS, spacingMmXYZ, clipHu and normalise {mean, std}`);
  }
  return {
    model: card.name,
    version: card.version,
    spacingZYX: [spacing[2], spacing[1], spacing[0]],
    clipHu: [clip[0], clip[1]],
    mean: normalise.mean,
    std: normalise.std,
    sizeDivisor: Number(p.sizeDivisor ?? 1),
    padValueHu: Number(p.padValueHu ?? clip[0]),
  };
}

/** Reads both stages' cards into one typed configuration (throws naming what is missing). */
export function cascadeConfigFromCards(coarse: ModelCard, fine: ModelCard): CascadeConfig {
  const p = (fine.preprocessing ?? {}) as Record<string, unknown>;
  const patch = p.patchSizeZYX as number[] | undefined;
  const stride = p.tileStrideZYX as number[] | undefined;
  if (patch?.length !== 3 || stride?.length !== 3) throw new Error(`model card ${fine.name}: preprocessing needs patchSizeZYX and tileStrideZYX`);
  const labels = new Map<Organ, number>();
  for (const [id, name] of Object.entries(coarse.labels ?? {})) {
    if (Object.values(Organ).includes(name as Organ)) labels.set(name as Organ, Number(id));
  }
  if (labels.size === 0) throw new Error(`model card ${coarse.name}: labels must map ids to ${Object.values(Organ).join(', ')}`);
  return {
    coarse: stage(coarse),
    fine: {
      ...stage(fine),
      patchZYX: patch as Shape3,
      strideZYX: stride as Shape3,
      gaussianSigmaFraction: Number(p.gaussianSigmaFraction ?? 0.125),
      dilationMm: Number(p.dilationMm ?? 10),
      minComponentMm3: Number(p.minComponentMm3 ?? 0),
    },
    labels,
  };
}
