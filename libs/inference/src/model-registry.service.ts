import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import * as ort from 'onnxruntime-node';
import { Histogram } from 'prom-client';
import { CONFIG, type LumenConfig } from '@lumen/config';
import { DomainError } from '@lumen/errors';
import { type BatchOptions, BatchedModel, type TensorMap, batchAxisOf } from './batched-inference.js';
import { type ExecutionProvider, modelFile, sessionOptions } from './session-options.js';
import { type ModelCard, type TensorSpec, validateCard } from './model-card.js';

const require = createRequire(import.meta.url);


export type LoadedModel = {
  name: string;
  version: string;
  card: ModelCard;
  directory: string;
  provider: ExecutionProvider | null;
  ready: boolean;
  error: string | null;
  session: ort.InferenceSession | null;
};

const inferenceSeconds = new Histogram({
  name: 'lumen_inference_duration_seconds',
  help: 'ONNX Runtime session.run duration by model',
  labelNames: ['model'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export const MODEL_ERROR_CODES = ['model.not-found', 'model.version-not-found', 'model.unavailable', 'model.inference-failed'] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

/**
 * A model asked for by name is not in the registry (`model.not-found`), not in the version asked
 * for (`model.version-not-found`), or is not loaded; or it rejected the values of raw tensors
 * given to it (`model.inference-failed`: an index out of range, axes its layers cannot pool).
 */
export class ModelError extends DomainError<ModelErrorCode> {}

/** Thrown when a caller needs a model that is not in the registry or failed to load. */
export class ModelUnavailableError extends ModelError {
  constructor(detail: string) {
    super('model.unavailable', detail);
  }
}

/** Highest version first: numeric where both are numbers, else lexical. */
function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? nb - na : b.localeCompare(a);
}

function warmupTensor(spec: TensorSpec, card: ModelCard): ort.Tensor {
  const divisor = Number((card.preprocessing as { sizeDivisor?: number } | undefined)?.sizeDivisor ?? 2);
  const dims = spec.shape.map((d) => (typeof d === 'number' ? d : /batch/i.test(d) ? 1 : Math.max(2, divisor)));
  const size = dims.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(size), dims);
  if (spec.dtype === 'int32') return new ort.Tensor('int32', new Int32Array(size), dims);
  return new ort.Tensor('float32', new Float32Array(size).fill(spec.name.includes('mask') ? 1 : 0), dims);
}

/**
 * The models under MODELS_DIR (`<name>/<version>/{model.onnx,card.json}`, newest version served).
 * One ONNX Runtime session per model per process, created and warmed up once at start-up.
 */
@Injectable()
export class ModelRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ModelRegistry');
  private readonly models = new Map<string, LoadedModel>();
  private readonly batched = new Map<string, BatchedModel>();

  constructor(@Inject(CONFIG) private readonly config: LumenConfig) {}

  async onModuleInit(): Promise<void> {
    for (const model of this.discover()) {
      this.models.set(model.name, model);
      await this.load(model);
    }
    const missing = this.config.models.filter((name) => !this.models.has(name));
    if (missing.length) throw new Error(`MODELS names model(s) not found in ${this.config.modelsDir}: ${missing.join(', ')}`);
  }

  async onModuleDestroy(): Promise<void> {
    for (const model of this.models.values()) await model.session?.release().catch(() => undefined);
  }

  private discover(): LoadedModel[] {
    if (!fs.existsSync(this.config.modelsDir)) {
      this.logger.warn(`MODELS_DIR ${this.config.modelsDir} does not exist: no models served`);
      return [];
    }
    const found: LoadedModel[] = [];
    for (const name of fs.readdirSync(this.config.modelsDir).sort()) {
      if (this.config.models.length && !this.config.models.includes(name)) continue;
      const modelDir = path.join(this.config.modelsDir, name);
      if (!fs.statSync(modelDir).isDirectory()) continue;
      const versions = fs
        .readdirSync(modelDir)
        .filter((v) => fs.existsSync(path.join(modelDir, v, 'card.json')) && fs.existsSync(modelFile(path.join(modelDir, v))))
        .sort(compareVersions);
      if (!versions.length) continue;
      const directory = path.join(modelDir, versions[0]);
      const cardPath = path.join(directory, 'card.json');
      const card = validateCard(JSON.parse(fs.readFileSync(cardPath, 'utf8')), cardPath);
      found.push({ name, version: versions[0], card: { ...card, name }, directory, provider: null, ready: false, error: null, session: null });
    }
    return found;
  }

  private async createSession(file: string, provider: ExecutionProvider): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(file, sessionOptions(provider, this.config.inferenceThreads));
  }

  private async load(model: LoadedModel): Promise<void> {
    const file = modelFile(model.directory);
    const device = this.config.inferenceDevice;
    try {
      // onnxruntime-node ships the CUDA provider only when its install step fetched it
      // (docker/Dockerfile.cuda); without the library, asking for it just prints an error.
      const cudaInstalled = fs.existsSync(path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
      if (device === 'auto' && !cudaInstalled) this.logger.log(`${model.name}: CUDA provider not installed; using CPU`);
      if (device === 'cuda' || (device === 'auto' && cudaInstalled)) {
        try {
          model.session = await this.createSession(file, 'cuda');
          model.provider = 'cuda';
        } catch (error) {
          if (device === 'cuda') throw new Error(`CUDA provider unavailable: ${(error as Error).message}`);
          this.logger.log(`${model.name}: CUDA provider unavailable (${(error as Error).message.split('\n')[0]}); using CPU`);
        }
      }
      if (!model.session) {
        model.session = await this.createSession(file, 'cpu');
        model.provider = 'cpu';
      }
      const feeds = Object.fromEntries(model.card.inputs.map((spec) => [spec.name, warmupTensor(spec, model.card)]));
      await model.session.run(feeds);
      model.ready = true;
      this.logger.log(`loaded ${model.name} v${model.version} (${model.card.task}) on ${model.provider}`);
    } catch (error) {
      model.error = (error as Error).message;
      model.ready = false;
      this.logger.error(`model ${model.name} failed to load: ${model.error}`);
    }
  }

  list(): LoadedModel[] {
    return [...this.models.values()];
  }

  find(name: string): LoadedModel | undefined {
    return this.models.get(name);
  }

  /** The model named `name`, loaded or not; a ModelError (`model.not-found`) when there is none. */
  get(name: string): LoadedModel {
    const model = this.models.get(name);
    if (!model) throw new ModelError('model.not-found', `No model named "${name}"`);
    return model;
  }

  byTask(task: string): LoadedModel[] {
    return this.list().filter((m) => m.card.task === task);
  }

  allReady(): boolean {
    return this.list().every((m) => m.ready);
  }

  /**
   * Runs a model on one request's tensors. When every input and output of the model starts with
   * the same named axis (its card says "batch"), the request joins the model's one shared queue:
   * concurrent requests of every route (hashing, hyperedge scoring, /v2 inference) with the same
   * trailing shape are stacked into one run and each gets its own rows back. Other models run at once.
   */
  async infer(name: string, feeds: TensorMap, options?: BatchOptions): Promise<TensorMap> {
    const model = this.models.get(name);
    if (!model || !batchAxisOf(model.card)) return (await this.run(name, feeds)) as TensorMap;
    let batched = this.batched.get(name);
    if (!batched) {
      batched = new BatchedModel(async (stacked) => (await this.run(name, stacked)) as TensorMap, this.config.inferenceBatchWaitMs);
      this.batched.set(name, batched);
    }
    return batched.infer(feeds, options);
  }

  /** Runs a model at once (no batching); records latency per model. */
  async run(name: string, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
    const model = this.models.get(name);
    if (!model?.session || !model.ready) throw new ModelUnavailableError(`model ${name} is not loaded${model?.error ? `: ${model.error}` : ''}`);
    const end = inferenceSeconds.startTimer({ model: name });
    try {
      return await model.session.run(feeds);
    } finally {
      end();
    }
  }
}
