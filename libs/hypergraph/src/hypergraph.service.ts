import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type LoadedModel, ModelRegistry, ModelUnavailableError, Tensor } from '@lumen/inference';
import { HypergraphError } from './hypergraph-error.js';
import { HYPEREDGE_TASK, type HypergraphSpec, hypergraphSpecFromCard } from './hypergraph-spec.js';
import { packCandidates, rowValues } from './kernels/pack-candidates.js';

/** Most candidates one request may send: as many rows as one shared batched run takes (BATCH_MAX_ROWS), so a request is never split. */
export const MAX_CANDIDATES_PER_REQUEST = 4096;

/** The model's answer for one candidate. */
export type CandidateScore = {
  /** Masked mean of the node probabilities. */
  score: number;
  /** p_i per node of the candidate, in its order. */
  nodeProbabilities: number[];
};

/** A served hyperedge dataset: its spec and the model behind it. */
export type HypergraphDataset = HypergraphSpec & { loaded: LoadedModel };

/**
 * Hyper-SAGNN datasets (every registry model of task "hyperedge-prediction") and their
 * scoring. A request's candidates are padded to its longest one; concurrent requests of the
 * same padded size are stacked into one inference by the registry's shared batching
 * (ModelRegistry.infer, the same queue /v2 inference requests join).
 */
@Injectable()
export class HypergraphService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Hypergraphs');
  private readonly served = new Map<string, HypergraphDataset>();

  constructor(private readonly registry: ModelRegistry) {}

  /** Runs after every module's init, so the registry has discovered its models. */
  onApplicationBootstrap(): void {
    for (const loaded of this.registry.byTask(HYPEREDGE_TASK)) {
      try {
        const spec = hypergraphSpecFromCard(loaded.card, loaded.name, loaded.version);
        if (this.served.has(spec.dataset)) throw new Error(`dataset name "${spec.dataset}" is already served by ${this.served.get(spec.dataset)!.model}`);
        this.served.set(spec.dataset, { ...spec, loaded });
      } catch (error) {
        // A bad card must not take the other workloads down; the model stays listed under /models.
        this.logger.error(`not serving ${loaded.name}: ${(error as Error).message}`);
      }
    }
    if (this.served.size) this.logger.log(`hypergraph datasets: ${[...this.served.keys()].join(', ')}`);
  }

  list(): HypergraphDataset[] {
    return [...this.served.values()].sort((a, b) => a.dataset.localeCompare(b.dataset));
  }

  find(dataset: string): HypergraphDataset | undefined {
    return this.served.get(dataset);
  }

  /** A served dataset by name, else `hypergraph.not-found` naming the served ones. */
  get(name: string): HypergraphDataset {
    const dataset = this.served.get(name);
    if (!dataset) {
      const served = this.list().map((d) => d.dataset);
      throw new HypergraphError('hypergraph.not-found', `No hypergraph dataset "${name}" (served: ${served.join(', ') || 'none'})`);
    }
    return dataset;
  }

  /** A dataset whose model is loaded and can score, else `model.unavailable`. */
  servable(name: string): HypergraphDataset {
    const dataset = this.get(name);
    if (!dataset.loaded.ready) throw new ModelUnavailableError(`Model ${dataset.model} is not loaded${dataset.loaded.error ? `: ${dataset.loaded.error}` : ''}`);
    return dataset;
  }

  /** Scores candidates given as global node indices (already validated), in order. */
  async score(dataset: string, candidates: number[][]): Promise<CandidateScore[]> {
    const served = this.served.get(dataset);
    if (!served) throw new Error(`no hypergraph dataset ${dataset}`);
    const packed = packCandidates(candidates);
    const shape = [packed.batch, packed.size];
    const outputs = await this.registry.infer(served.loaded.name, {
      node_index: new Tensor('int64', packed.index, shape),
      node_mask: new Tensor('float32', packed.mask, shape),
    });
    const scores = outputs.score.data as Float32Array;
    const nodeProbs = outputs.node_prob.data as Float32Array;
    return candidates.map((candidate, row) => ({ score: scores[row], nodeProbabilities: rowValues(nodeProbs, packed.size, row, candidate.length) }));
  }
}
