import { Injectable } from '@nestjs/common';
import { type CandidateError, type CandidateNode, CandidateResolver, type HypergraphDataset, HypergraphError, HypergraphService, candidatesRejection } from '@lumen/hypergraph';
import {
  HypergraphDto,
  type ListNodesQueryDto,
  type NodePageDto,
  OutsiderMethod,
  type OutsiderRequestDto,
  type OutsiderResponseDto,
  type ScoreRequestDto,
  type ScoreResponseDto,
} from './hypergraph.dto.js';

@Injectable()
export class HypergraphApiService {
  private readonly resolvers = new WeakMap<HypergraphDataset, CandidateResolver>();

  constructor(private readonly hypergraphs: HypergraphService) {}

  list(): HypergraphDto[] {
    return this.hypergraphs.list().map((d) => HypergraphDto.from(d));
  }

  get(name: string): HypergraphDto {
    return HypergraphDto.from(this.hypergraphs.get(name));
  }

  nodes(name: string, query: ListNodesQueryDto): NodePageDto {
    const dataset = this.hypergraphs.get(name);
    const type = dataset.nodeTypes.find((t) => t.name === query.type);
    if (!type) {
      const known = dataset.nodeTypes.map((t) => t.name).join(', ');
      throw new HypergraphError('hypergraph.unknown-node-type', `type: unknown node type "${query.type}" (${dataset.dataset} has ${known})`, {
        errors: [{ field: 'type', message: `unknown node type "${query.type}"` }],
      });
    }
    const end = Math.min(type.count, query.offset + query.limit);
    const ids = Array.from({ length: Math.max(0, end - query.offset) }, (_, i) => query.offset + i);
    return { type: type.name, total: type.count, offset: query.offset, limit: query.limit, ids };
  }

  async score(name: string, body: ScoreRequestDto): Promise<ScoreResponseDto> {
    const dataset = this.hypergraphs.servable(name);
    const resolver = this.resolver(dataset);
    const errors: CandidateError[] = [];
    const candidates = body.hyperedges.map((value, i) => resolver.resolve(value, `hyperedges[${i}]`, errors));
    if (errors.length) throw candidatesRejection(errors, 'hyperedges');
    const results = await this.hypergraphs.score(dataset.dataset, candidates as number[][]);
    return { dataset: dataset.dataset, model: dataset.model, version: dataset.version, scores: results.map((r) => r.score) };
  }

  /**
   * Leave-one-out: score the candidate without each node in turn; the node whose removal
   * raises the score most is the likeliest outsider. (1 − p_i, the other option, named a
   * planted outsider about as often as chance, against 0.69–0.94 for leave-one-out — see
   * docs/hypergraph.md.) All sub-candidates go to the model in one batch.
   */
  async outsiders(name: string, body: OutsiderRequestDto): Promise<OutsiderResponseDto> {
    const dataset = this.hypergraphs.servable(name);
    const minSize = Math.max(3, dataset.minCandidateSize);
    if (dataset.maxCandidateSize < minSize) {
      throw new HypergraphError('hypergraph.outsiders-unsupported', `${dataset.dataset} candidates have at most ${dataset.maxCandidateSize} nodes; outsider detection needs 3`);
    }
    const errors: CandidateError[] = [];
    const candidate = this.resolver(dataset).resolve(body.hyperedge, 'hyperedge', errors, minSize);
    if (errors.length) throw candidatesRejection(errors, 'hyperedge');
    const full = candidate!;
    const without = full.map((_, drop) => full.filter((_, i) => i !== drop));
    const [whole, ...reduced] = await this.hypergraphs.score(dataset.dataset, [full, ...without]);
    const nodes = (body.hyperedge as CandidateNode[]).map(({ type, id }, i) => ({
      type,
      id,
      probability: whole.nodeProbabilities[i],
      scoreWithout: reduced[i].score,
      outsiderScore: reduced[i].score - whole.score,
    }));
    const outsiderIndex = nodes.reduce((best, node, i) => (node.outsiderScore > nodes[best].outsiderScore ? i : best), 0);
    return { dataset: dataset.dataset, model: dataset.model, version: dataset.version, score: whole.score, method: OutsiderMethod.leaveOneOut, outsiderIndex, nodes };
  }

  private resolver(dataset: HypergraphDataset): CandidateResolver {
    let resolver = this.resolvers.get(dataset);
    if (!resolver) this.resolvers.set(dataset, (resolver = new CandidateResolver(dataset)));
    return resolver;
  }
}
