import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { LoadedModel } from '@lumen/inference';
import { DATATYPE_OF, PROTOCOL_DATATYPES, datatypeOf } from './tensor-codec.js';

/**
 * The Open Inference Protocol's (KServe v2) REST objects, as the OpenAPI document describes them.
 * Requests are checked by parseInferenceRequest (inference-request.ts), which names the input at
 * fault, rather than by class-validator: their tensors can hold millions of values.
 */

const RESPONSE_DATATYPES = Object.values(DATATYPE_OF);

export class ServerMetadataDto {
  @ApiProperty({ example: 'lumen' })
  name: string;
  @ApiProperty({ example: '0.1.0' })
  version: string;
  @ApiProperty({ type: [String], example: ['binary_tensor_data'], description: 'Protocol extensions served' })
  extensions: string[];
}

export class ServerLiveDto {
  @ApiProperty({ example: true })
  live: boolean;
}

export class ServerReadyDto {
  @ApiProperty({ example: true, description: 'Every served model is loaded (503 with false otherwise)' })
  ready: boolean;
}

export class ModelReadyDto {
  @ApiProperty({ example: 'hypersagnn-gps' })
  name: string;
  @ApiProperty({ example: true, description: 'The model is loaded (503 with false otherwise)' })
  ready: boolean;
}

export class MetadataTensorDto {
  @ApiProperty({ example: 'node_index' })
  name: string;
  @ApiProperty({ enum: RESPONSE_DATATYPES, example: 'INT64' })
  datatype: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'integer', minimum: -1 },
    example: [-1, -1],
    description: "Axis sizes; -1 for a variable axis. The model card (GET /models/{name}) names the variable axes: axes of the same name must have the same size across a request's inputs",
  })
  shape: number[];

  static from(spec: LoadedModel['card']['inputs'][number]): MetadataTensorDto {
    return {
      name: spec.name,
      datatype: datatypeOf(spec),
      shape: spec.shape.map((axis) => (typeof axis === 'number' ? axis : -1)),
    };
  }
}

export class ModelMetadataDto {
  @ApiProperty({ example: 'hypersagnn-gps' })
  name: string;
  @ApiProperty({ type: [String], example: ['1'], description: 'The served version (the highest in MODELS_DIR); only it can be asked for' })
  versions: string[];
  @ApiProperty({ example: 'onnxruntime_onnx' })
  platform: string;
  @ApiProperty({ type: [MetadataTensorDto] })
  inputs: MetadataTensorDto[];
  @ApiProperty({ type: [MetadataTensorDto] })
  outputs: MetadataTensorDto[];

  static from(model: LoadedModel): ModelMetadataDto {
    return {
      name: model.name,
      versions: [model.version],
      platform: 'onnxruntime_onnx',
      inputs: model.card.inputs.map((s) => MetadataTensorDto.from(s)),
      outputs: model.card.outputs.map((s) => MetadataTensorDto.from(s)),
    };
  }
}

export class InputParametersDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 48, description: 'Binary tensor extension: the tensor is this many bytes of the binary data after the JSON header (and has no `data`)' })
  binary_data_size?: number;
}

export class RequestInputDto {
  @ApiProperty({ example: 'node_index', description: 'A model input (GET /v2/models/{name})' })
  name: string;
  @ApiProperty({ type: 'array', items: { type: 'integer', minimum: 0 }, example: [2, 3] })
  shape: number[];
  @ApiProperty({ enum: PROTOCOL_DATATYPES, example: 'INT64', description: "Must be the model's datatype for this input" })
  datatype: string;
  @ApiPropertyOptional({ type: InputParametersDto })
  parameters?: InputParametersDto;
  @ApiPropertyOptional({
    type: 'array',
    items: {},
    example: [86, 146, 220, 87, 147, 219],
    description: 'Row-major elements, flat or nested; absent when parameters.binary_data_size is given',
  })
  data?: unknown[];
}

export class OutputParametersDto {
  @ApiPropertyOptional({ example: false, description: 'Return this output as binary data after the JSON header (overrides binary_data_output)' })
  binary_data?: boolean;
}

export class RequestOutputDto {
  @ApiProperty({ example: 'score' })
  name: string;
  @ApiPropertyOptional({ type: OutputParametersDto })
  parameters?: OutputParametersDto;
}

export class RequestParametersDto {
  @ApiPropertyOptional({ example: false, description: 'Return every output as binary data unless the output says otherwise' })
  binary_data_output?: boolean;
}

export class InferenceRequestDto {
  @ApiPropertyOptional({ example: 'req-1', description: 'Echoed in the response' })
  id?: string;
  @ApiPropertyOptional({ type: RequestParametersDto })
  parameters?: RequestParametersDto;
  @ApiProperty({
    type: [RequestInputDto],
    example: [
      { name: 'node_index', shape: [2, 3], datatype: 'INT64', data: [86, 150, 220, 87, 147, 219] },
      { name: 'node_mask', shape: [2, 3], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1] },
    ],
  })
  inputs: RequestInputDto[];
  @ApiPropertyOptional({ type: [RequestOutputDto], description: 'The outputs wanted (default: all, as JSON)', example: [{ name: 'score' }] })
  outputs?: RequestOutputDto[];
}

export class OutputResponseParametersDto {
  @ApiProperty({ type: 'integer', minimum: 0, example: 8, description: 'The tensor is this many bytes of the binary data after the JSON header' })
  binary_data_size: number;
}

export class ResponseOutputDto {
  @ApiProperty({ example: 'score' })
  name: string;
  @ApiProperty({ type: 'array', items: { type: 'integer', minimum: 0 }, example: [2] })
  shape: number[];
  @ApiProperty({ enum: RESPONSE_DATATYPES, example: 'FP32' })
  datatype: string;
  @ApiPropertyOptional({ type: OutputResponseParametersDto, description: 'Present for binary outputs' })
  parameters?: OutputResponseParametersDto;
  @ApiPropertyOptional({ type: 'array', items: {}, example: [0.93, 0.12], description: 'Row-major elements (flat); absent for binary outputs' })
  data?: (number | boolean)[];
}

export class InferenceResponseDto {
  @ApiProperty({ example: 'hypersagnn-gps' })
  model_name: string;
  @ApiProperty({ example: '1' })
  model_version: string;
  @ApiPropertyOptional({ example: 'req-1' })
  id?: string;
  @ApiProperty({ type: [ResponseOutputDto] })
  outputs: ResponseOutputDto[];
}
