import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Scope } from '@lumen/config';
import { RequireScope } from '@lumen/http';
import { ApiProblemResponses } from '../problem-responses.js';
import {
  CandidateNodeDto,
  HypergraphDto,
  ListNodesQueryDto,
  NodePageDto,
  OutsiderRequestDto,
  OutsiderResponseDto,
  ScoreRequestDto,
  ScoreResponseDto,
} from './hypergraph.dto.js';
import { HypergraphApiService } from './hypergraph.service.js';

const DATASET_PARAM = { name: 'name', example: 'gps', description: 'Dataset name (GET /hypergraphs)' };

@ApiTags('hypergraphs')
@ApiExtraModels(CandidateNodeDto)
@RequireScope(Scope.Hypergraph)
@Controller('hypergraphs')
export class HypergraphController {
  constructor(private readonly service: HypergraphApiService) {}

  @Get()
  @ApiOperation({ operationId: 'listHypergraphs', summary: 'Served hypergraph datasets: node types and counts, candidate sizes, model and test metrics' })
  @ApiOkResponse({ type: [HypergraphDto] })
  @ApiProblemResponses(401, 403)
  list(): HypergraphDto[] {
    return this.service.list();
  }

  @Get(':name')
  @ApiOperation({ operationId: 'getHypergraph', summary: 'One hypergraph dataset' })
  @ApiParam(DATASET_PARAM)
  @ApiOkResponse({ type: HypergraphDto })
  @ApiProblemResponses(401, 403, 404)
  get(@Param('name') name: string): HypergraphDto {
    return this.service.get(name);
  }

  @Get(':name/nodes')
  @ApiOperation({ operationId: 'listHypergraphNodes', summary: 'A page of node ids of one node type' })
  @ApiParam(DATASET_PARAM)
  @ApiOkResponse({ type: NodePageDto })
  @ApiProblemResponses(400, 401, 403, 404)
  nodes(@Param('name') name: string, @Query() query: ListNodesQueryDto): NodePageDto {
    return this.service.nodes(name, query);
  }

  @Post(':name/score')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ operationId: 'scoreHyperedges', summary: 'Probability that each candidate set of typed nodes is a hyperedge (micro-batched with concurrent requests)' })
  @ApiParam(DATASET_PARAM)
  @ApiOkResponse({ type: ScoreResponseDto })
  @ApiProblemResponses(400, 401, 403, 404, 422, 503)
  score(@Param('name') name: string, @Body() body: ScoreRequestDto): Promise<ScoreResponseDto> {
    return this.service.score(name, body);
  }

  @Post(':name/outsiders')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ operationId: 'findHyperedgeOutsider', summary: 'Which node of a candidate least belongs: p_i and leave-one-out outsider score per node' })
  @ApiParam(DATASET_PARAM)
  @ApiOkResponse({ type: OutsiderResponseDto })
  @ApiProblemResponses(400, 401, 403, 404, 422, 503)
  outsiders(@Param('name') name: string, @Body() body: OutsiderRequestDto): Promise<OutsiderResponseDto> {
    return this.service.outsiders(name, body);
  }
}
