import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { type LoadedModel, MicroBatcher, ModelRegistry, ModelUnavailableError, Tensor } from '@lumen/inference';
import { HypergraphError } from './hypergraph-error.js';
import { HYPEREDGE_TASK, type HypergraphSpec, hypergraphSpecFromCard } from './hypergraph-spec.js';
import { packCandidates, rowValues } from './kernels/pack-candidates.js';

/** Most candidates one request may send, and the largest batch one inference runs. */
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
 * scoring. Candidates of concurrent requests are gathered per dataset into one inference of
 * up to MAX_CANDIDATES_PER_REQUEST rows, padded to the batch's longest candidate.
 */
@Injectable()
export class HypergraphService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Hypergraphs');
  private readonly served = new Map<string, HypergraphDataset>();
  private readonly batchers = new Map<string, MicroBatcher<number[], CandidateScore>>();

  constructor(
    private readonly registry: ModelRegistry,
    @Inject(CONFIG) private readonly config: LumenConfig,
  ) {}

  /** Runs after every module's init, so the registry has discovered its models. */
  onApplicationBootstrap(): void {
    for (const loaded of this.registry.byTask(HYPEREDGE_TASK)) {
      try {
        const spec = hypergraphSpecFromCard(loaded.card, loaded.name, loaded.version);
        if (this.served.has(spec.dataset)) throw new Error(`dataset name "${spec.dataset}" is already served by ${this.served.get(spec.dataset)!.model}`);
        this.served.set(spec.dataset, { ...spec, loaded });
        this.batchers.set(
          spec.dataset,
          new MicroBatcher({ maxBatch: MAX_CANDIDATES_PER_REQUEST, maxWaitMs: this.config.inferenceBatchWaitMs, run: (batch) => this.infer(loaded.name, batch) }),
        );
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
  score(dataset: string, candidates: number[][]): Promise<CandidateScore[]> {
    const batcher = this.batchers.get(dataset);
    if (!batcher) throw new Error(`no hypergraph dataset ${dataset}`);
    return batcher.submitMany(candidates);
  }

  private async infer(model: string, batch: number[][]): Promise<CandidateScore[]> {
    const packed = packCandidates(batch);
    const shape = [packed.batch, packed.size];
    const outputs = await this.registry.run(model, {
      node_index: new Tensor('int64', packed.index, shape),
      node_mask: new Tensor('float32', packed.mask, shape),
    });
    const scores = outputs.score.data as Float32Array;
    const nodeProbs = outputs.node_prob.data as Float32Array;
    return batch.map((candidate, row) => ({ score: scores[row], nodeProbabilities: rowValues(nodeProbs, packed.size, row, candidate.length) }));
  }
}
