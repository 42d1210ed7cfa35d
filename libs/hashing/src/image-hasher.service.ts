import fs from 'node:fs/promises';
import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@lumen/errors';
import { type LoadedModel, ModelRegistry, ModelUnavailableError, Tensor } from '@lumen/inference';
import { type ImagePreprocessing, ImageRejectedError, imageToTensor, readPreprocessing } from './image-preprocessing.js';
import { codeBytes, packSigns } from './kernels/codes.js';

export const HASHING_TASK = 'image-hashing';

/** Largest single image accepted (a 40 MP JPEG is far smaller); UPLOAD_MAX_BYTES can lower it. */
export const IMAGE_MAX_BYTES = 64 * 1024 * 1024;

/** Most images per ONNX Runtime run (bigger batches gain little on CPU). */
export const HASH_BATCH_MAX = 64;

/** An uploaded image on disk: where it is, and the form field and name it came with. */
export type ImageUpload = { path: string; field: string; clientName?: string };

/** A served hashing model as the search service needs it. */
export type HashingModel = {
  name: string;
  version: string;
  bits: number;
  preprocessing: ImagePreprocessing;
  input: string;
  output: string;
  /** mAP@ALL measured at training time (card metrics), when the card has it. */
  mapAtAll: number | null;
};

export const HASHING_ERROR_CODES = ['hashing.unsupported-bits'] as const;
export type HashingErrorCode = (typeof HASHING_ERROR_CODES)[number];

/** No served model hashes with the bit length asked for (when none is loaded: ModelUnavailableError). */
export class HashingModelError extends DomainError<HashingErrorCode> {}

/**
 * Turns images into packed binary codes with the registry's `image-hashing` models. Concurrent
 * images are gathered into one ONNX Runtime call per model by the registry's shared batching
 * (ModelRegistry.infer, the same queue /v2 inference requests join), so many small uploads cost
 * about as much as one batch.
 */
@Injectable()
export class ImageHasher {
  private readonly logger = new Logger('ImageHasher');
  private described: Map<string, HashingModel> | null = null;

  constructor(private readonly registry: ModelRegistry) {}

  /** Every loaded hashing model whose card is usable, by name. */
  private all(): Map<string, HashingModel> {
    if (this.described) return this.described;
    const models = new Map<string, HashingModel>();
    for (const loaded of this.registry.byTask(HASHING_TASK)) {
      try {
        models.set(loaded.name, describe(loaded));
      } catch (error) {
        this.logger.error(`${loaded.name} is not served for hashing: ${(error as Error).message}`);
      }
    }
    // The registry loads every model before the HTTP server starts, so this list is final.
    this.described = models;
    return models;
  }

  /** Ready hashing models, fewest bits first. */
  models(): HashingModel[] {
    return [...this.all().values()].filter((m) => this.registry.find(m.name)?.ready).sort((a, b) => a.bits - b.bits || a.name.localeCompare(b.name));
  }

  /** The model for `bits`, or the default (64 bits when served, else the most bits served). */
  modelFor(bits?: number): HashingModel | undefined {
    const models = this.models();
    if (bits !== undefined) return models.find((m) => m.bits === bits);
    return models.find((m) => m.bits === 64) ?? models[models.length - 1];
  }

  /** The served model for `bits` (the default model when undefined), else a HashingModelError naming what is served. */
  servedModel(bits?: number): HashingModel {
    const model = this.modelFor(bits);
    if (model) return model;
    const served = this.models().map((m) => m.bits);
    if (!served.length) throw new ModelUnavailableError('No image-hashing model is loaded');
    throw new HashingModelError('hashing.unsupported-bits', `No model for ${bits} bits; served: ${served.join(', ')}`, {
      errors: [{ field: 'bits', message: `bits must be one of ${served.join(', ')}` }],
    });
  }

  /** A model by name when it is loaded and ready. */
  model(name: string): HashingModel | undefined {
    return this.models().find((m) => m.name === name);
  }

  /** Decodes and preprocesses one image for `model` (throws ImageRejectedError on bad input). */
  preprocess(model: HashingModel, bytes: Uint8Array): Promise<Float32Array> {
    return imageToTensor(bytes, model.preprocessing);
  }

  /** Packed code of one preprocessed image; batched with concurrent calls for the same model. */
  async encode(model: HashingModel, tensor: Float32Array): Promise<Uint8Array> {
    const { width, height } = model.preprocessing;
    const outputs = await this.registry.infer(model.name, { [model.input]: new Tensor('float32', tensor, [1, 3, height, width]) }, { maxRows: HASH_BATCH_MAX });
    const output = outputs[model.output];
    if (!output || output.dims.length !== 2 || output.dims[0] !== 1 || output.dims[1] !== model.bits) {
      throw new Error(`model ${model.name} returned ${output ? `shape [${output.dims.join(',')}]` : 'no output'}; expected [1,${model.bits}]`);
    }
    return packSigns(output.data as Float32Array, 0, model.bits, new Uint8Array(codeBytes(model.bits)));
  }

  /** Decode + encode. */
  async hash(model: HashingModel, bytes: Uint8Array): Promise<Uint8Array> {
    return this.encode(model, await this.preprocess(model, bytes));
  }

  /** Decodes and preprocesses the image in `file` (an upload on disk); a refusal names the upload. */
  async preprocessFile(model: HashingModel, file: ImageUpload): Promise<Float32Array> {
    try {
      return await this.preprocess(model, new Uint8Array(await fs.readFile(file.path)));
    } catch (error) {
      throw error instanceof ImageRejectedError ? error.about(file) : error;
    }
  }

  /** Decode + encode the image in `file`. */
  async hashFile(model: HashingModel, file: ImageUpload): Promise<Uint8Array> {
    return this.encode(model, await this.preprocessFile(model, file));
  }

}

/** Reads what serving needs from a hashing model's card; throws naming the first problem. */
export function describe(loaded: LoadedModel): HashingModel {
  const card = loaded.card;
  const bits = card.bits;
  if (!Number.isInteger(bits) || (bits as number) < 1 || (bits as number) > 4096) throw new Error('card.json "bits" must be an integer 1..4096');
  const input = card.inputs[0];
  const output = card.outputs[0];
  if (input?.dtype !== 'float32' || output?.dtype !== 'float32') throw new Error('card.json inputs[0] and outputs[0] must be float32');
  if (output.shape[output.shape.length - 1] !== bits) throw new Error(`card.json outputs[0] has ${String(output.shape[output.shape.length - 1])} values per image; bits says ${String(bits)}`);
  const map = (card.metrics as { mapAtAll?: unknown } | undefined)?.mapAtAll;
  return {
    name: loaded.name,
    version: loaded.version,
    bits: bits as number,
    preprocessing: readPreprocessing(card.preprocessing, loaded.name),
    input: input.name,
    output: output.name,
    mapAtAll: typeof map === 'number' ? map : null,
  };
}
