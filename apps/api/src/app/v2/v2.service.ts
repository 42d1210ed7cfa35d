import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@lumen/errors';
import { invalidRequest } from '@lumen/http';
import { type LoadedModel, ModelError, ModelRegistry, ModelUnavailableError, Tensor, type TensorMap, batchAxisOf } from '@lumen/inference';
import { parseInferenceRequest } from './inference-request.js';
import { DATATYPE_OF, type OrtType, type TensorData, toBytes, toJson } from './tensor-codec.js';
import { type InferenceResponseDto, ModelMetadataDto, type ResponseOutputDto, type ServerMetadataDto } from './v2.dto.js';

/** What a served inference answers: the JSON response and, with the binary tensor extension, the bytes that follow it. */
export type InferenceAnswer = { response: InferenceResponseDto; binary: Uint8Array[] };

/** Protocol extensions this server implements (server metadata). */
export const V2_EXTENSIONS = ['binary_tensor_data'];

/**
 * The Open Inference Protocol over the model registry: every served model, under its name and
 * served version, takes raw tensors checked against its card's signature. Batchable models
 * (a leading "batch" axis) share their queue with the domain routes (ModelRegistry.infer).
 */
@Injectable()
export class V2Service {
  private readonly logger = new Logger('OpenInference');

  constructor(private readonly registry: ModelRegistry) {}

  serverMetadata(): ServerMetadataDto {
    return { name: 'lumen', version: '0.1.0', extensions: V2_EXTENSIONS };
  }

  serverReady(): boolean {
    return this.registry.allReady();
  }

  /** The model by name, in the version asked for (when asked): 404 naming what is served otherwise. */
  model(name: string, version?: string): LoadedModel {
    const model = this.registry.get(name);
    if (version !== undefined && version !== model.version) {
      throw new ModelError('model.version-not-found', `${model.name} has no version "${version}" served; it serves version ${model.version} only`);
    }
    return model;
  }

  metadata(name: string, version?: string): ModelMetadataDto {
    return ModelMetadataDto.from(this.model(name, version));
  }

  async infer(name: string, version: string | undefined, body: unknown, binary: Uint8Array): Promise<InferenceAnswer> {
    const model = this.model(name, version);
    const divisor = Number((model.card.preprocessing as { sizeDivisor?: unknown } | undefined)?.sizeDivisor ?? 1);
    const request = parseInferenceRequest(body, binary, { ...model.card, sizeDivisor: divisor, batchAxis: batchAxisOf(model.card) });
    if (Array.isArray(request)) throw invalidRequest(request);
    if (!model.ready) throw new ModelUnavailableError(`Model ${model.name} is not loaded${model.error ? `: ${model.error}` : ''}`);
    const feeds = Object.fromEntries(request.inputs.map((input) => [input.name, new Tensor(input.type as 'float32', input.data as Float32Array, input.shape)]));
    const outputs = await this.run(model, feeds);
    const binaryParts: Uint8Array[] = [];
    const answered: ResponseOutputDto[] = request.outputs.map(({ name: output, binary: asBinary }) => {
      const tensor = outputs[output];
      if (!tensor) throw new Error(`model ${model.name} gave no output ${output}`);
      const type = tensor.type as OrtType;
      const datatype = DATATYPE_OF[type];
      if (!datatype) throw new Error(`model ${model.name} output ${output} has type ${tensor.type}, which the protocol cannot carry`);
      const data = tensor.data as TensorData;
      const base = { name: output, shape: [...tensor.dims], datatype };
      if (!asBinary) return { ...base, data: toJson(type, data) };
      const bytes = toBytes(data);
      binaryParts.push(bytes);
      return { ...base, parameters: { binary_data_size: bytes.byteLength } };
    });
    return {
      response: { model_name: model.name, model_version: model.version, ...(request.id !== undefined ? { id: request.id } : {}), outputs: answered },
      binary: binaryParts,
    };
  }

  /**
   * Runs the model. Raw tensors pass the signature check yet may hold values the model rejects
   * (an index past its embedding table); ONNX Runtime's refusal is the client's fault, so it is
   * answered 422 with ONNX Runtime's reason rather than as a server error.
   */
  private async run(model: LoadedModel, feeds: TensorMap): Promise<TensorMap> {
    try {
      return await this.registry.infer(model.name, feeds);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const reason = (error as Error)?.message?.split('\n')[0] ?? String(error);
      this.logger.warn(`${model.name} refused an inference request: ${reason}`);
      throw new ModelError('model.inference-failed', `${model.name} could not run on these inputs: ${reason}`);
    }
  }
}
