import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Res, applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiServiceUnavailableResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Scope } from '@lumen/config';
import { Public, RequireScope } from '@lumen/http';
import { ApiProblemResponses } from '../problem-responses.js';
import { ApiRequestBodies } from '../request-bodies.js';
import { BinaryTensorData, INFERENCE_HEADER_LENGTH } from './inference-body.js';
import { InferenceRequestDto, InferenceResponseDto, ModelMetadataDto, ModelReadyDto, ServerLiveDto, ServerMetadataDto, ServerReadyDto } from './v2.dto.js';
import { type InferenceAnswer, V2Service } from './v2.service.js';

const TAG = 'open inference protocol (v2)';
const MODEL = ApiParam({ name: 'name', example: 'hypersagnn-gps', description: 'A model of GET /models' });
const VERSION = ApiParam({ name: 'version', example: '1', description: 'The served version (others answer 404)' });

/** The infer route's documentation: JSON or binary-extension bodies in and out. */
function ApiInfer(summary: string, operationId: string) {
  const binary = { type: 'string', format: 'binary' } as const;
  return applyDecorators(
    ApiExtraModels(InferenceResponseDto),
    ApiOperation({
      operationId,
      summary,
      description:
        "Tensors in, tensors out, checked against the model's signature (GET /v2/models/{name}); 400 problem+json names the input at fault. " +
        'With the binary tensor extension the body is the JSON request followed by the tensors\' little-endian bytes (inputs with parameters.binary_data_size), ' +
        'and outputs asked for as binary come back the same way (Content-Type application/octet-stream, Inference-Header-Content-Length). ' +
        'Models whose axes start with "batch" share their batch queue with the domain routes.',
    }),
    ApiHeader({ name: INFERENCE_HEADER_LENGTH, required: false, description: 'Binary tensor extension: bytes of the JSON request at the start of the body' }),
    ApiRequestBodies({
      'application/json': InferenceRequestDto,
      'application/octet-stream': { ...binary, description: 'The JSON request (Inference-Header-Content-Length bytes), then the binary tensors in input order' },
    }),
    ApiOkResponse({
      description: 'The outputs; with binary outputs, the JSON response followed by their bytes',
      headers: { [INFERENCE_HEADER_LENGTH]: { description: 'With binary outputs: bytes of the JSON response at the start of the body', schema: { type: 'integer' } } },
      content: { 'application/json': { schema: { $ref: getSchemaPath(InferenceResponseDto) } }, 'application/octet-stream': { schema: binary } },
    }),
    ApiProblemResponses(400, 401, 403, 404, 413, 415, 429, 503),
  );
}

/** Sends an inference answer: plain JSON, or JSON + binary tensors with Inference-Header-Content-Length. */
function send(answer: InferenceAnswer, reply: FastifyReply): InferenceResponseDto | Buffer {
  if (!answer.binary.length) return answer.response;
  const header = Buffer.from(JSON.stringify(answer.response));
  reply.header('content-type', 'application/octet-stream').header(INFERENCE_HEADER_LENGTH, String(header.length));
  return Buffer.concat([header, ...answer.binary]);
}

/** Server liveness and readiness of the Open Inference Protocol: public, for probes. */
@ApiTags(TAG)
@Public()
@Controller('v2/health')
export class V2HealthController {
  constructor(private readonly service: V2Service) {}

  @Get('live')
  @ApiOperation({ operationId: 'serverLive', summary: 'The server is up' })
  @ApiOkResponse({ type: ServerLiveDto })
  live(): ServerLiveDto {
    return { live: true };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'serverReady', summary: '200 when every served model is loaded, else 503 (inference does not need the database)' })
  @ApiOkResponse({ type: ServerReadyDto })
  @ApiServiceUnavailableResponse({ type: ServerReadyDto, description: 'A model failed to load (GET /models names it)' })
  ready(@Res({ passthrough: true }) reply: FastifyReply): ServerReadyDto {
    const ready = this.service.serverReady();
    reply.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { ready };
  }
}

/**
 * The Open Inference Protocol (KServe v2 REST) for every model of the registry: server and model
 * metadata, model readiness and inference, with the binary tensor extension. Scope `infer`.
 */
@ApiTags(TAG)
@RequireScope(Scope.Infer)
@Controller('v2')
export class V2Controller {
  constructor(private readonly service: V2Service) {}

  @Get()
  @ApiOperation({ operationId: 'serverMetadata', summary: 'Server name, version and protocol extensions' })
  @ApiOkResponse({ type: ServerMetadataDto })
  @ApiProblemResponses(401, 403, 429)
  serverMetadata(): ServerMetadataDto {
    return this.service.serverMetadata();
  }

  @Get('models/:name')
  @MODEL
  @ApiOperation({ operationId: 'modelMetadata', summary: "A model's served version, platform and signature (datatypes, shapes with -1 for variable axes)" })
  @ApiOkResponse({ type: ModelMetadataDto })
  @ApiProblemResponses(401, 403, 404, 429)
  modelMetadata(@Param('name') name: string): ModelMetadataDto {
    return this.service.metadata(name);
  }

  @Get('models/:name/versions/:version')
  @MODEL
  @VERSION
  @ApiOperation({ operationId: 'modelVersionMetadata', summary: 'The same, for an explicit version' })
  @ApiOkResponse({ type: ModelMetadataDto })
  @ApiProblemResponses(401, 403, 404, 429)
  modelVersionMetadata(@Param('name') name: string, @Param('version') version: string): ModelMetadataDto {
    return this.service.metadata(name, version);
  }

  @Get('models/:name/ready')
  @MODEL
  @ApiOperation({ operationId: 'modelReady', summary: '200 when the model is loaded, else 503' })
  @ApiOkResponse({ type: ModelReadyDto })
  @ApiServiceUnavailableResponse({ type: ModelReadyDto, description: 'The model failed to load' })
  @ApiProblemResponses(401, 403, 404, 429)
  modelReady(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): ModelReadyDto {
    return this.ready(name, undefined, reply);
  }

  @Get('models/:name/versions/:version/ready')
  @MODEL
  @VERSION
  @ApiOperation({ operationId: 'modelVersionReady', summary: 'The same, for an explicit version' })
  @ApiOkResponse({ type: ModelReadyDto })
  @ApiServiceUnavailableResponse({ type: ModelReadyDto, description: 'The model failed to load' })
  @ApiProblemResponses(401, 403, 404, 429)
  modelVersionReady(@Param('name') name: string, @Param('version') version: string, @Res({ passthrough: true }) reply: FastifyReply): ModelReadyDto {
    return this.ready(name, version, reply);
  }

  @Post('models/:name/infer')
  @HttpCode(HttpStatus.OK)
  @MODEL
  @ApiInfer('Run a model on tensors (JSON or binary tensor extension)', 'modelInfer')
  async infer(@Param('name') name: string, @Body() body: unknown, @BinaryTensorData() binary: Buffer, @Res({ passthrough: true }) reply: FastifyReply): Promise<InferenceResponseDto | Buffer> {
    return send(await this.service.infer(name, undefined, body, binary), reply);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(HttpStatus.OK)
  @MODEL
  @VERSION
  @ApiInfer('The same, for an explicit version', 'modelVersionInfer')
  async inferVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @BinaryTensorData() binary: Buffer,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InferenceResponseDto | Buffer> {
    return send(await this.service.infer(name, version, body, binary), reply);
  }

  private ready(name: string, version: string | undefined, reply: FastifyReply): ModelReadyDto {
    const model = this.service.model(name, version);
    reply.status(model.ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { name: model.name, ready: model.ready };
  }
}
