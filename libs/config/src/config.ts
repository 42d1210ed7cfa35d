import os from 'node:os';
import path from 'node:path';
import { bool, cleanEnv, makeValidator, num, port, str, url } from 'envalid';
import { type ApiKeyEntry, parseApiKeys } from './api-keys.js';

/** Thrown when an environment variable is missing or malformed; the message names each one. */
export class ConfigError extends Error {}

const byteSize = makeValidator<number>((input) => {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(String(input).trim());
  if (!match) throw new Error('expected a byte count such as 536870912, 512MiB or 2GB');
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  const value = Math.floor(Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]);
  if (value <= 0) throw new Error('must be positive');
  return value;
});

const positiveInt = makeValidator<number>((input) => {
  const value = Number(input);
  if (!Number.isInteger(value) || value < 0) throw new Error('expected a non-negative integer');
  return value;
});

const apiKeys = makeValidator<ApiKeyEntry[]>((input) => parseApiKeys(String(input)));

/** Every variable Lumen reads. README's configuration table documents the same list. */
const specs = {
  PORT: port({ default: 3000, desc: 'HTTP port of the API' }),
  HOST: str({ default: '0.0.0.0', desc: 'Interface the API listens on' }),
  PUBLIC_URL: url({ default: undefined, desc: "URL clients reach the API at (the OpenAPI document's servers); unset: relative to where the document is served" }),
  DATABASE_URL: url({ default: undefined, desc: 'PostgreSQL URL; unset starts an embedded PostgreSQL under DATA_DIR' }),
  DATA_DIR: str({ default: './data', desc: 'Embedded database, generated admin key; uploads and results too unless STORAGE_DIR is set' }),
  STORAGE_DIR: str({ default: '', desc: 'Uploads and results, shared by every API and worker process (a shared volume); empty = DATA_DIR' }),
  MODELS_DIR: str({ default: './models', desc: 'ONNX model registry: <name>/<version>/{model.onnx,card.json}' }),
  MODELS: str({ default: '', desc: 'Comma-separated model names to load; empty loads every model in MODELS_DIR' }),
  INFERENCE_DEVICE: str({ choices: ['auto', 'cpu', 'cuda'], default: 'auto' }),
  INFERENCE_THREADS: positiveInt({ default: 0, desc: 'Intra-op threads per ONNX session; 0 = min(4, CPU count)' }),
  INFERENCE_BATCH_WAIT_MS: num({ default: 2, desc: 'How long a micro-batch waits for more requests before running' }),
  UPLOAD_MAX_BYTES: byteSize({ default: 1024 ** 3, desc: 'Largest accepted upload body' }),
  INFER_MAX_BYTES: byteSize({ default: 256 * 1024 ** 2, desc: 'Largest binary-tensor body of a /v2 inference request (held in memory)' }),
  SEGMENTATION_MAX_VOXELS: positiveInt({ default: 200_000_000, desc: 'Largest CT accepted for segmentation, in voxels' }),
  API_KEYS: apiKeys({ default: [], desc: 'name:secret:scope+scope,...; empty creates an admin key in DATA_DIR/admin.key' }),
  RATE_LIMIT_PER_MINUTE: positiveInt({ default: 6000, desc: 'Requests per minute per API key, counted in 10-second windows of a sixth each; 0 turns limiting off' }),
  AUTH_FAILURES_PER_MINUTE: positiveInt({ default: 20, desc: 'Requests with unknown API keys one client address may send per minute before it gets 429 (at least 1)' }),
  CORS_ORIGINS: str({ default: '', desc: 'Comma-separated origins allowed by CORS; empty disables CORS' }),
  LOG_LEVEL: str({ choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' }),
  WORKER_ENABLED: bool({ default: true, desc: 'Run the job worker inside the API process' }),
  EMBEDDED_PG_PORT: port({ default: 54329, desc: 'Port of the embedded PostgreSQL (DATABASE_URL unset)' }),
  JOB_HEARTBEAT_SECONDS: num({ default: 30, desc: 'A running job not heard from for this long is retried' }),
  JOB_SUPERVISE_SECONDS: num({ default: 30, desc: 'How often the queue looks for dead or expired jobs' }),
  JOB_RETRY_LIMIT: positiveInt({ default: 2 }),
  CPU_FALLBACK_SECONDS: positiveInt({ default: 30, desc: 'While a CUDA worker is alive, CPU workers take jobs that prefer CUDA (segmentation) only once the oldest has waited this long' }),
};

export type LumenConfig = {
  port: number;
  host: string;
  /** Base URL clients use (no trailing slash), or null: the OpenAPI `servers` entry is then relative ("/"). */
  publicUrl: string | null;
  databaseUrl: string | undefined;
  dataDir: string;
  /** Root of the uploads and results every API and worker process shares (STORAGE_DIR, else DATA_DIR). */
  storageDir: string;
  modelsDir: string;
  models: string[];
  inferenceDevice: 'auto' | 'cpu' | 'cuda';
  inferenceThreads: number;
  inferenceBatchWaitMs: number;
  uploadMaxBytes: number;
  inferMaxBytes: number;
  segmentationMaxVoxels: number;
  apiKeys: ApiKeyEntry[];
  rateLimitPerMinute: number;
  authFailuresPerMinute: number;
  corsOrigins: string[];
  logLevel: string;
  workerEnabled: boolean;
  embeddedPgPort: number;
  jobHeartbeatSeconds: number;
  jobSuperviseSeconds: number;
  jobRetryLimit: number;
  cpuFallbackSeconds: number;
};

/** Validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LumenConfig {
  const clean = cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      const names = Object.entries(errors);
      if (names.length === 0) return;
      const lines = names.map(([name, error]) => `  ${name}: ${(error as Error).message}`);
      throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
    },
  });
  if (clean.JOB_HEARTBEAT_SECONDS < 10) throw new ConfigError('Invalid configuration:\n  JOB_HEARTBEAT_SECONDS: must be at least 10');
  if (clean.AUTH_FAILURES_PER_MINUTE < 1) throw new ConfigError('Invalid configuration:\n  AUTH_FAILURES_PER_MINUTE: must be at least 1 (failed authentications cannot go unthrottled)');
  if (clean.JOB_SUPERVISE_SECONDS < 1) throw new ConfigError('Invalid configuration:\n  JOB_SUPERVISE_SECONDS: must be at least 1');
  return {
    port: clean.PORT,
    host: clean.HOST,
    publicUrl: clean.PUBLIC_URL ? clean.PUBLIC_URL.replace(/\/+$/, '') : null,
    databaseUrl: clean.DATABASE_URL || undefined,
    dataDir: path.resolve(clean.DATA_DIR),
    storageDir: path.resolve(clean.STORAGE_DIR || clean.DATA_DIR),
    modelsDir: path.resolve(clean.MODELS_DIR),
    models: clean.MODELS.split(',').map((s) => s.trim()).filter(Boolean),
    inferenceDevice: clean.INFERENCE_DEVICE as LumenConfig['inferenceDevice'],
    inferenceThreads: clean.INFERENCE_THREADS || Math.min(4, os.availableParallelism()),
    inferenceBatchWaitMs: clean.INFERENCE_BATCH_WAIT_MS,
    uploadMaxBytes: clean.UPLOAD_MAX_BYTES,
    inferMaxBytes: clean.INFER_MAX_BYTES,
    segmentationMaxVoxels: clean.SEGMENTATION_MAX_VOXELS,
    apiKeys: clean.API_KEYS,
    rateLimitPerMinute: clean.RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: clean.AUTH_FAILURES_PER_MINUTE,
    corsOrigins: clean.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: clean.LOG_LEVEL,
    workerEnabled: clean.WORKER_ENABLED,
    embeddedPgPort: clean.EMBEDDED_PG_PORT,
    jobHeartbeatSeconds: clean.JOB_HEARTBEAT_SECONDS,
    jobSuperviseSeconds: clean.JOB_SUPERVISE_SECONDS,
    jobRetryLimit: clean.JOB_RETRY_LIMIT,
    cpuFallbackSeconds: clean.CPU_FALLBACK_SECONDS,
  };
}
