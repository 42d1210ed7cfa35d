import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { type HypergraphDataset, MAX_CANDIDATES_PER_REQUEST } from '@lumen/hypergraph';

/** Largest page of node ids. */
export const MAX_NODE_PAGE = 10_000;

export class NodeTypeDto {
  @ApiProperty({ example: 'user' })
  name: string;
  @ApiProperty({ example: 146, description: 'Node ids of this type are 0..count-1' })
  count: number;
}

export class TestMetricsDto {
  @ApiProperty({ example: 0.9102, description: 'ROC AUC on the held-out test hyperedges and their sampled negatives' })
  auc: number;
  @ApiProperty({ example: 0.6596, description: 'Average precision (AUPR) on the same candidates' })
  aupr: number;
  @ApiProperty({ type: 'integer', example: 282, nullable: true, description: 'Test hyperedges (positives)' })
  positives: number | null;
  @ApiProperty({ type: 'number', example: 5, nullable: true, description: 'Sampled negatives per positive' })
  negativesPerPositive: number | null;
}

export class HypergraphDto {
  @ApiProperty({ example: 'gps', description: 'Dataset name: the model name without its "hypersagnn-" prefix' })
  name: string;
  @ApiProperty({ example: 'hypersagnn-gps' })
  model: string;
  @ApiProperty({ example: '1' })
  version: string;
  @ApiProperty({ example: true, description: 'The model is loaded and can score' })
  ready: boolean;
  @ApiProperty({ type: [NodeTypeDto], description: 'Node types in column order' })
  nodeTypes: NodeTypeDto[];
  @ApiProperty({ example: 221, description: 'Nodes over all types' })
  nodeCount: number;
  @ApiProperty({ example: 2 })
  minCandidateSize: number;
  @ApiProperty({ example: 3 })
  maxCandidateSize: number;
  @ApiProperty({ type: TestMetricsDto, nullable: true, description: "The model card's test metrics (metrics.test); null when the card has none" })
  testMetrics: TestMetricsDto | null;

  static from(dataset: HypergraphDataset): HypergraphDto {
    return {
      name: dataset.dataset,
      model: dataset.model,
      version: dataset.version,
      ready: dataset.loaded.ready,
      nodeTypes: dataset.nodeTypes.map((t) => ({ name: t.name, count: t.count })),
      nodeCount: dataset.nodeTypes.reduce((sum, t) => sum + t.count, 0),
      minCandidateSize: dataset.minCandidateSize,
      maxCandidateSize: dataset.maxCandidateSize,
      testMetrics: dataset.testMetrics,
    };
  }
}

export class ListNodesQueryDto {
  @ApiProperty({ example: 'user', description: 'A node type of the dataset' })
  @IsString()
  @MaxLength(200)
  type: string;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_NODE_PAGE, default: 100 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_NODE_PAGE)
  limit: number = 100;
}

export class NodePageDto {
  @ApiProperty({ example: 'user' })
  type: string;
  @ApiProperty({ example: 146, description: 'Nodes of this type' })
  total: number;
  @ApiProperty({ example: 0 })
  offset: number;
  @ApiProperty({ example: 3 })
  limit: number;
  @ApiProperty({ type: [Number], example: [0, 1, 2], description: 'Per-type node ids offset..offset+limit-1 (fewer at the end)' })
  ids: number[];
}

/** A node of a candidate hyperedge. Validated by the service, which names the candidate and node at fault. */
export class CandidateNodeDto {
  @ApiProperty({ example: 'user', description: 'Node type (see GET /hypergraphs)' })
  type: string;
  @ApiProperty({ example: 12, minimum: 0, description: 'Per-type node id, 0..count-1' })
  id: number;
}

const CANDIDATE_EXAMPLE = [
  { type: 'user', id: 86 },
  { type: 'location', id: 4 },
  { type: 'activity', id: 4 },
];

export class ScoreRequestDto {
  @ApiProperty({
    description: `Candidate hyperedges, each a list of distinct nodes (minCandidateSize..maxCandidateSize); sizes may differ within a request. At most ${MAX_CANDIDATES_PER_REQUEST}.`,
    type: 'array',
    items: { type: 'array', items: { $ref: getSchemaPath('CandidateNodeDto') } },
    example: [CANDIDATE_EXAMPLE, CANDIDATE_EXAMPLE.slice(0, 2)],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CANDIDATES_PER_REQUEST)
  hyperedges: unknown[];
}

/** Which dataset and model version answered (every scoring response carries it). */
export class AnsweredByDto {
  @ApiProperty({ example: 'gps' })
  dataset: string;
  @ApiProperty({ example: 'hypersagnn-gps' })
  model: string;
  @ApiProperty({ example: '1' })
  version: string;
}

export class ScoreResponseDto extends AnsweredByDto {
  @ApiProperty({ type: [Number], example: [0.97, 0.41], description: 'Probability that each candidate is a hyperedge (mean of its p_i), in request order' })
  scores: number[];
}

export class OutsiderRequestDto {
  @ApiProperty({
    description: 'One candidate hyperedge of at least 3 distinct nodes (removing a node must leave a candidate the model can score)',
    type: 'array',
    items: { $ref: getSchemaPath('CandidateNodeDto') },
    example: CANDIDATE_EXAMPLE,
  })
  @IsArray()
  hyperedge: unknown[];
}

export enum OutsiderMethod {
  leaveOneOut = 'leave-one-out',
}

export class OutsiderNodeDto {
  @ApiProperty({ example: 'location' })
  type: string;
  @ApiProperty({ example: 4 })
  id: number;
  @ApiProperty({ example: 0.62, description: "p_i: the model's probability for this node within the candidate" })
  probability: number;
  @ApiProperty({ example: 0.91, description: 'Score of the candidate without this node' })
  scoreWithout: number;
  @ApiProperty({ example: 0.35, description: 'scoreWithout − score: how much the candidate gains by dropping this node; the highest marks the most likely outsider' })
  outsiderScore: number;
}

export class OutsiderResponseDto extends AnsweredByDto {
  @ApiProperty({ example: 0.56, description: 'Score of the whole candidate' })
  score: number;
  @ApiProperty({ enum: OutsiderMethod, enumName: 'OutsiderMethod', example: OutsiderMethod.leaveOneOut })
  method: OutsiderMethod;
  @ApiProperty({ example: 1, description: 'Position (in the request) of the most likely outsider' })
  outsiderIndex: number;
  @ApiProperty({ type: [OutsiderNodeDto], description: 'The nodes in request order' })
  nodes: OutsiderNodeDto[];
}
