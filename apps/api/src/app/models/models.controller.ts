import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { type LoadedModel, ModelRegistry } from '@lumen/inference';
import { ModelRefDto } from '../model-ref.dto.js';
import { ApiProblemResponses } from '../problem-responses.js';

export enum ExecutionProviderName {
  cuda = 'cuda',
  cpu = 'cpu',
}

export class ModelDto extends ModelRefDto {
  @ApiProperty({ example: 'image-hashing' })
  task: string;
  @ApiProperty({ example: true, description: 'Session created and warmed up' })
  ready: boolean;
  @ApiProperty({ type: 'string', enum: ExecutionProviderName, nullable: true, description: 'Where inference runs (null when the model failed to load)' })
  provider: ExecutionProviderName | null;
  @ApiProperty({ type: 'string', nullable: true, description: 'Why loading failed (null when loaded)' })
  error: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The model card (card.json): inputs, outputs, preprocessing, labels, metrics with their reproduce command, training data' })
  card: Record<string, unknown>;

  static override from(model: LoadedModel): ModelDto {
    return {
      name: model.name,
      version: model.version,
      task: model.card.task,
      ready: model.ready,
      provider: model.provider as ExecutionProviderName | null,
      error: model.error,
      card: model.card,
    };
  }
}

@ApiTags('models')
@Controller('models')
export class ModelsController {
  constructor(private readonly registry: ModelRegistry) {}

  @Get()
  @ApiOperation({ operationId: 'listModels', summary: 'Every served model with its card, version and execution provider' })
  @ApiOkResponse({ type: [ModelDto] })
  @ApiProblemResponses(401)
  list(): ModelDto[] {
    return this.registry.list().map((m) => ModelDto.from(m));
  }

  @Get(':name')
  @ApiOperation({ operationId: 'getModel', summary: 'One model: card, version, provider, readiness' })
  @ApiOkResponse({ type: ModelDto })
  @ApiProblemResponses(401, 404)
  get(@Param('name') name: string): ModelDto {
    return ModelDto.from(this.registry.get(name));
  }
}
