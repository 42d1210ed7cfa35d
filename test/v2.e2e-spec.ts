// The Open Inference Protocol (KServe v2 REST) against the real service with every model of the
// registry: each answers a valid request (JSON and binary tensors) with outputs of its card's
// shape and datatype, a hashing model's outputs give /hash's codes bit for bit, a hyperedge
// model's give /hypergraphs/{name}/score's scores exactly, and /v2 requests share the domain
// routes' batch queue. Models, versions and signatures are read from the registry (GET /models),
// never assumed.
import fs from 'node:fs';
import path from 'node:path';
import { codeToHex, describe as hashingModelOf, imageToTensor, packSigns } from '@lumen/hashing';
import { HYPEREDGE_TASK, type HypergraphSpec, hypergraphSpecFromCard, packCandidates } from '@lumen/hypergraph';
import type { LoadedModel, ModelCard } from '@lumen/inference';
import { type LumenApi, type Schemas, file, lumenApi, ok, problem } from './support/api.js';
import { API_READY_MS, KEYS, type LumenProcess, ROOT, createDatabase, startApi, tempDir } from './support/lumen.js';

type Spec = ModelCard['inputs'][number];
type InferenceRequest = Schemas['InferenceRequestDto'];
type InferenceResponse = Schemas['InferenceResponseDto'];
type RequestInput = Schemas['RequestInputDto'];

/** The protocol's datatype of each card dtype, written out here as the test's own reference. */
const DATATYPE: Record<Spec['dtype'], RequestInput['datatype']> = { float32: 'FP32', float16: 'FP16', int64: 'INT64', int32: 'INT32', uint8: 'UINT8' };
const BYTES: Record<Spec['dtype'], number> = { float32: 4, float16: 2, int64: 8, int32: 4, uint8: 1 };

const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
const MODELS_DIR = process.env.MODELS_DIR ?? path.join(ROOT, 'models');

/** The served card (highest version with a model) of every model in the registry, read from disk. */
function registryCards(): { name: string; card: ModelCard }[] {
  return fs.readdirSync(MODELS_DIR).flatMap((name) => {
    const versions = fs.readdirSync(path.join(MODELS_DIR, name)).filter((v) => fs.existsSync(path.join(MODELS_DIR, name, v, 'model.onnx')));
    const served = versions.sort((a, b) => Number(b) - Number(a) || b.localeCompare(a))[0];
    return served ? [{ name, card: JSON.parse(fs.readFileSync(path.join(MODELS_DIR, name, served, 'card.json'), 'utf8')) as ModelCard }] : [];
  });
}
const FIXTURES = fs.readdirSync(IMAGES).filter((f) => f.endsWith('.jpg')).sort();

/** Sizes for the named axes of a card: 2 rows on the shared leading axis, else its sizeDivisor (or 4). */
function axisSizes(card: ModelCard): Map<string, number> {
  const leading = [...card.inputs, ...card.outputs].map((s) => s.shape[0]);
  const batch = typeof leading[0] === 'string' && leading.every((a) => a === leading[0]) ? leading[0] : null;
  const divisor = Number((card.preprocessing as { sizeDivisor?: number } | undefined)?.sizeDivisor ?? 1);
  const sizes = new Map<string, number>();
  for (const spec of card.inputs) for (const axis of spec.shape) if (typeof axis === 'string' && !sizes.has(axis)) sizes.set(axis, axis === batch ? 2 : divisor > 1 ? divisor : 4);
  return sizes;
}

const shapeOf = (spec: Spec, sizes: Map<string, number>) => spec.shape.map((axis) => (typeof axis === 'number' ? axis : sizes.get(axis)!));
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Input values any model takes: index-like integers 0, masks 1, other floats a smooth signal. */
function valuesFor(spec: Spec, n: number): number[] {
  if (spec.dtype !== 'float32') return new Array<number>(n).fill(0);
  if (spec.name.includes('mask')) return new Array<number>(n).fill(1);
  return Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i / 7)));
}

/** Little-endian bytes of values of a card dtype. */
function bytesOf(dtype: Spec['dtype'], values: number[]): Uint8Array {
  const typed =
    dtype === 'float32' ? Float32Array.from(values) : dtype === 'int64' ? BigInt64Array.from(values, BigInt) : dtype === 'int32' ? Int32Array.from(values) : dtype === 'uint8' ? Uint8Array.from(values) : new Uint16Array(values.length);
  return new Uint8Array(typed.buffer);
}

/** Values of a card dtype from little-endian bytes. */
function valuesOf(datatype: string, bytes: Uint8Array): number[] {
  const copy = bytes.slice().buffer;
  if (datatype === 'FP32') return Array.from(new Float32Array(copy));
  if (datatype === 'INT64') return Array.from(new BigInt64Array(copy), Number);
  if (datatype === 'INT32') return Array.from(new Int32Array(copy));
  throw new Error(`no reader for ${datatype} in this test`);
}

/** A binary-extension body: the JSON request, then each input's bytes in order. */
function binaryBody(request: InferenceRequest, parts: Uint8Array[]): { body: Blob; headerLength: number } {
  const header = Buffer.from(JSON.stringify(request));
  return { body: new Blob([header, ...parts.map((p) => new Uint8Array(p))]), headerLength: header.length };
}

/** The JSON response and, per binary output, its values. */
function splitBinaryAnswer(body: ArrayBuffer, headerLength: number): { response: InferenceResponse; values: Map<string, number[]> } {
  const bytes = new Uint8Array(body);
  const response = JSON.parse(Buffer.from(bytes.subarray(0, headerLength)).toString('utf8')) as InferenceResponse;
  const values = new Map<string, number[]>();
  let offset = headerLength;
  for (const output of response.outputs) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    values.set(output.name, valuesOf(output.datatype, bytes.subarray(offset, offset + size)));
    offset += size;
  }
  expect(offset).toBe(bytes.length);
  return { response, values };
}

async function inferBinary(v2: LumenApi, model: string, request: InferenceRequest, parts: Uint8Array[]) {
  const { body, headerLength } = binaryBody(request, parts);
  const { data, response } = await v2.POST('/v2/models/{name}/infer', {
    params: { path: { name: model }, header: { 'inference-header-content-length': String(headerLength) } },
    body,
    headers: { 'content-type': 'application/octet-stream' },
    parseAs: 'arrayBuffer',
  });
  expect({ model, status: response.status, contentType: response.headers.get('content-type') }).toEqual({ model, status: 200, contentType: 'application/octet-stream' });
  return splitBinaryAnswer(data as ArrayBuffer, Number(response.headers.get('inference-header-content-length')));
}

/** Inferences ONNX Runtime has run for a model (Prometheus counter). */
async function inferences(admin: LumenApi, model: string): Promise<number> {
  const text = await ok(admin.GET('/metrics', { parseAs: 'text' }));
  return Number(new RegExp(`lumen_inference_duration_seconds_count\\{model="${model}"\\} (\\d+)`).exec(text as string)?.[1] ?? 0);
}

/** Distinct candidates of a dataset: several of the largest size and one of the smallest, one node per type in turn. */
function candidatesOf(spec: HypergraphSpec): { type: string; id: number }[][] {
  const sizes = [spec.maxCandidateSize, spec.maxCandidateSize, spec.maxCandidateSize, spec.maxCandidateSize, spec.minCandidateSize];
  return sizes.map((size, c) =>
    Array.from({ length: size }, (_, k) => {
      const type = spec.nodeTypes[k % spec.nodeTypes.length];
      return { type: type.name, id: (c * 7919 + k * 104729 + Math.floor(k / spec.nodeTypes.length)) % type.count };
    }),
  );
}

/** The two input tensors of a hyperedge model for typed candidates, as the library lays them out. */
function hyperedgeTensors(spec: HypergraphSpec, candidates: { type: string; id: number }[][]): (RequestInput & { data: number[] })[] {
  const offset = new Map(spec.nodeTypes.map((t) => [t.name, t.offset]));
  const packed = packCandidates(candidates.map((c) => c.map((n) => offset.get(n.type)! + n.id)));
  const shape = [packed.batch, packed.size];
  return [
    { name: 'node_index', datatype: 'INT64', shape, data: Array.from(packed.index, Number) },
    { name: 'node_mask', datatype: 'FP32', shape, data: Array.from(packed.mask) },
  ];
}

describe('Open Inference Protocol (real API process, every model in the registry)', () => {
  let api: LumenProcess;
  let v2: LumenApi;
  let models: Schemas['ModelDto'][];

  beforeAll(async () => {
    // Every model of MODELS_DIR: MODELS unset.
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: tempDir() });
    v2 = lumenApi(api.url, KEYS.infer);
    models = await ok(lumenApi(api.url, KEYS.admin).GET('/models'));
  }, API_READY_MS + 120_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('answers server metadata, liveness and readiness (the probes without a key)', async () => {
    expect(await ok(v2.GET('/v2'))).toEqual({ name: 'lumen', version: expect.any(String), extensions: ['binary_tensor_data'] });
    expect(await ok(lumenApi(api.url).GET('/v2/health/live'))).toEqual({ live: true });
    expect(await ok(lumenApi(api.url).GET('/v2/health/ready'))).toEqual({ ready: true });
    expect(models.length).toBeGreaterThanOrEqual(3);
  });

  it("describes every model with its card's signature and served version", async () => {
    for (const model of models) {
      const card = model.card as unknown as ModelCard;
      const tensors = (specs: Spec[]) => specs.map((s) => ({ name: s.name, datatype: DATATYPE[s.dtype], shape: s.shape.map((a) => (typeof a === 'number' ? a : -1)) }));
      const metadata = await ok(v2.GET('/v2/models/{name}', { params: { path: { name: model.name } } }));
      expect(metadata).toEqual({ name: model.name, versions: [model.version], platform: 'onnxruntime_onnx', inputs: tensors(card.inputs), outputs: tensors(card.outputs) });
      expect(await ok(v2.GET('/v2/models/{name}/versions/{version}', { params: { path: { name: model.name, version: model.version } } }))).toEqual(metadata);
      expect(await ok(v2.GET('/v2/models/{name}/ready', { params: { path: { name: model.name } } }))).toEqual({ name: model.name, ready: true });
      expect(await ok(v2.GET('/v2/models/{name}/versions/{version}/ready', { params: { path: { name: model.name, version: model.version } } }))).toEqual({ name: model.name, ready: true });
    }
  });

  it("runs every model on JSON and on binary tensors, with outputs of the card's shapes and datatypes, the same either way", async () => {
    for (const model of models) {
      const card = model.card as unknown as ModelCard;
      const sizes = axisSizes(card);
      const inputs = card.inputs.map((spec) => {
        const shape = shapeOf(spec, sizes);
        return { spec, shape, values: valuesFor(spec, count(shape)) };
      });
      const json = await ok(
        v2.POST('/v2/models/{name}/versions/{version}/infer', {
          params: { path: { name: model.name, version: model.version } },
          body: { id: `check-${model.name}`, inputs: inputs.map(({ spec, shape, values }) => ({ name: spec.name, datatype: DATATYPE[spec.dtype], shape, data: values })) },
        }),
      );
      const answer = json as InferenceResponse;
      expect({ model: answer.model_name, version: answer.model_version, id: answer.id, outputs: answer.outputs.map((o) => o.name) }).toEqual({
        model: model.name,
        version: model.version,
        id: `check-${model.name}`,
        outputs: card.outputs.map((s) => s.name),
      });
      for (const [k, spec] of card.outputs.entries()) {
        const output = answer.outputs[k];
        const where = `${model.name} ${spec.name}`;
        expect({ where, datatype: output.datatype, rank: output.shape.length }).toEqual({ where, datatype: DATATYPE[spec.dtype], rank: spec.shape.length });
        spec.shape.forEach((axis, i) => {
          const want = typeof axis === 'number' ? axis : sizes.get(axis);
          if (want !== undefined) expect({ where, axis: i, size: output.shape[i] }).toEqual({ where, axis: i, size: want });
          else expect(output.shape[i]).toBeGreaterThanOrEqual(1);
        });
        expect({ where, elements: output.data?.length, finite: output.data?.every((v) => Number.isFinite(v)) }).toEqual({ where, elements: count(output.shape), finite: true });
      }

      const binary = await inferBinary(
        v2,
        model.name,
        {
          inputs: inputs.map(({ spec, shape }) => ({ name: spec.name, datatype: DATATYPE[spec.dtype], shape, parameters: { binary_data_size: count(shape) * BYTES[spec.dtype] } })),
          parameters: { binary_data_output: true },
        },
        inputs.map(({ spec, values }) => bytesOf(spec.dtype, values)),
      );
      for (const output of answer.outputs) {
        expect({ where: `${model.name} ${output.name}`, values: binary.values.get(output.name) }).toEqual({ where: `${model.name} ${output.name}`, values: output.data });
      }
    }
  }, 300_000);

  it('gives, for each hashing model, the codes POST /hash gives for the same images, bit for bit', async () => {
    const hashing = models.filter((m) => m.task === 'image-hashing');
    expect(hashing.length).toBeGreaterThan(0);
    const search = lumenApi(api.url, KEYS.search);
    for (const loaded of hashing) {
      const model = hashingModelOf({ name: loaded.name, version: loaded.version, card: loaded.card } as unknown as LoadedModel);
      const { width, height } = model.preprocessing;
      const images = FIXTURES.slice(0, 6).map((name) => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(IMAGES, name))) }));
      const tensors = await Promise.all(images.map(({ bytes }) => imageToTensor(bytes, model.preprocessing)));
      const stacked = new Float32Array(tensors.length * 3 * height * width);
      tensors.forEach((t, i) => stacked.set(t, i * t.length));
      const { response, values } = await inferBinary(
        v2,
        loaded.name,
        {
          inputs: [{ name: model.input, datatype: 'FP32', shape: [tensors.length, 3, height, width], parameters: { binary_data_size: stacked.byteLength } }],
          outputs: [{ name: model.output, parameters: { binary_data: true } }],
        },
        [new Uint8Array(stacked.buffer)],
      );
      expect(response.outputs[0].shape).toEqual([tensors.length, model.bits]);
      const codes = Float32Array.from(values.get(model.output)!);
      for (const [i, image] of images.entries()) {
        const hashed = await ok(search.POST('/hash', { body: { image: file(image.bytes, image.name), bits: model.bits } }));
        expect(hashed.model).toEqual({ name: loaded.name, version: loaded.version });
        expect({ image: image.name, code: codeToHex(packSigns(codes, i * model.bits, model.bits)) }).toEqual({ image: image.name, code: hashed.code });
      }
    }
  });

  it('gives, for each hyperedge model, exactly the scores of /hypergraphs/{name}/score', async () => {
    const hyperedge = models.filter((m) => m.task === HYPEREDGE_TASK);
    expect(hyperedge.length).toBeGreaterThan(0);
    const graph = lumenApi(api.url, KEYS.hypergraph);
    for (const model of hyperedge) {
      const spec = hypergraphSpecFromCard(model.card as unknown as ModelCard, model.name, model.version);
      const candidates = candidatesOf(spec);
      const { scores } = await ok(graph.POST('/hypergraphs/{name}/score', { params: { path: { name: spec.dataset } }, body: { hyperedges: candidates } }));
      const answer = await ok(v2.POST('/v2/models/{name}/infer', { params: { path: { name: model.name } }, body: { inputs: hyperedgeTensors(spec, candidates), outputs: [{ name: 'score' }] } }));
      expect({ model: model.name, scores: (answer as InferenceResponse).outputs[0].data }).toEqual({ model: model.name, scores });
    }
  });

  describe('refuses with problem+json that names what is wrong (and the protocol error member)', () => {
    const hyperedgeModel = () => models.find((m) => m.task === HYPEREDGE_TASK)!;
    const raw = (body: unknown) =>
      fetch(`${api.url}/v2/models/${hyperedgeModel().name}/infer`, { method: 'POST', headers: { 'x-api-key': KEYS.infer, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const gps = () => hypergraphSpecFromCard(hyperedgeModel().card as unknown as ModelCard, hyperedgeModel().name, hyperedgeModel().version);

    it('an unknown model or version (404), no key (401), a key without the infer scope (403)', async () => {
      const unknown = await problem(v2.GET('/v2/models/{name}', { params: { path: { name: 'resnet-50' } } }), 404, 'model-not-found');
      expect(unknown).toMatchObject({ detail: 'No model named "resnet-50"', error: 'No model named "resnet-50"' });
      const model = models[0];
      const version = await problem(v2.GET('/v2/models/{name}/versions/{version}/ready', { params: { path: { name: model.name, version: '999' } } }), 404, 'model-version-not-found');
      expect(version.detail).toBe(`${model.name} has no version "999" served; it serves version ${model.version} only`);
      await problem(lumenApi(api.url).GET('/v2'), 401, 'missing-api-key');
      expect((await problem(lumenApi(api.url, KEYS.search).POST('/v2/models/{name}/infer', { params: { path: { name: model.name } }, body: { inputs: [] } }), 403, 'missing-scope')).detail).toContain('"infer"');
    });

    it('inputs that do not fit the signature (400, naming each input)', async () => {
      const [index, mask] = hyperedgeTensors(gps(), candidatesOf(gps()).slice(0, 2));
      const response = await raw({ inputs: [{ ...index, datatype: 'FP32' }, { ...mask, shape: [2, 2], data: [1, 1, 1, 1] }, { name: 'weights', datatype: 'FP32', shape: [1], data: [1] }] });
      const body = (await response.json()) as Schemas['ProblemDto'] & { error: string };
      expect(response.status).toBe(400);
      expect(body.errors).toEqual([
        { field: 'inputs[0].datatype', message: "inputs[0] (node_index): datatype FP32 does not match the model's INT64" },
        { field: 'inputs[1].shape', message: 'inputs[1] (node_mask): axis "size" is 2 here but 3 in inputs[0] (node_index)' },
        { field: 'inputs[2].name', message: 'inputs[2] (weights): the model has no input "weights" (it takes node_index, node_mask)' },
      ]);
      expect(body.error).toBe(body.detail);
      const missing = await (await raw({ inputs: [index] })).json();
      expect(missing.errors).toEqual([{ field: 'inputs', message: 'inputs: missing node_mask (the model takes node_index, node_mask)' }]);
      const short = await (await raw({ inputs: [index, { ...mask, data: mask.data.slice(1) }] })).json();
      expect(short.detail).toBe(`inputs[1] (node_mask): data has ${mask.data.length - 1} elements; the shape holds ${mask.data.length}`);
    });

    it('values the model rejects (an index past its node table) are 422 with the reason, and the server stays ready', async () => {
      const [index, mask] = hyperedgeTensors(gps(), candidatesOf(gps()).slice(0, 1));
      const response = await raw({ inputs: [{ ...index, data: index.data.map(() => 10_000_000) }, mask] });
      expect(response.status).toBe(422);
      const body = await response.json();
      expect(body.type).toBe('urn:lumen:problem:inference-failed');
      expect(body.detail).toMatch(new RegExp(`^${hyperedgeModel().name} could not run on these inputs: .*out of`));
      expect((await fetch(`${api.url}/v2/health/ready`)).status).toBe(200);
    });

    it("takes requests as Triton's clients send them: no Content-Type, JSON or binary", async () => {
      const [index, mask] = hyperedgeTensors(gps(), candidatesOf(gps()).slice(0, 2));
      const post = (body: Uint8Array, headers: Record<string, string> = {}) =>
        fetch(`${api.url}/v2/models/${hyperedgeModel().name}/infer`, { method: 'POST', headers: { 'x-api-key': KEYS.infer, ...headers }, body: new Blob([new Uint8Array(body)]) });
      // fetch sends no Content-Type for a Blob without a type.
      const json = await post(Buffer.from(JSON.stringify({ inputs: [index, mask] })));
      expect(json.status).toBe(200);
      const scores = (await json.json()).outputs.find((o: { name: string }) => o.name === 'score').data;
      const { body, headerLength } = binaryBody(
        {
          inputs: [
            { name: index.name, datatype: index.datatype, shape: index.shape, parameters: { binary_data_size: index.data.length * 8 } },
            { name: mask.name, datatype: mask.datatype, shape: mask.shape, parameters: { binary_data_size: mask.data.length * 4 } },
          ],
          outputs: [{ name: 'score' }],
        },
        [bytesOf('int64', index.data), bytesOf('float32', mask.data)],
      );
      const binary = await post(new Uint8Array(await body.arrayBuffer()), { 'inference-header-content-length': String(headerLength) });
      expect(binary.status).toBe(200);
      expect((await binary.json()).outputs[0].data).toEqual(scores);
      const badLength = await post(new Uint8Array(await body.arrayBuffer()), { 'inference-header-content-length': 'lots' });
      expect((await badLength.json()).type).toBe('urn:lumen:problem:invalid-inference-header-length');
    });
  });
});

describe('Open Inference Protocol batching (shared with the domain routes) and body limit', () => {
  let api: LumenProcess;
  let hashModel: Schemas['ModelDto'];
  let gps: HypergraphSpec;
  const cards = registryCards();
  const hyperedgeName = cards.find((m) => m.card.task === HYPEREDGE_TASK)!.name;
  const hashingName = cards.find((m) => m.card.task === 'image-hashing')!.name;

  beforeAll(async () => {
    // A long batching window so that concurrent requests surely meet; a small binary body limit.
    api = await startApi({ DATABASE_URL: await createDatabase(), DATA_DIR: tempDir(), MODELS: [hyperedgeName, hashingName].join(','), INFERENCE_BATCH_WAIT_MS: '1000', INFER_MAX_BYTES: '4KiB', CORS_ORIGINS: 'https://app.example.org' });
    const admin = lumenApi(api.url, KEYS.admin);
    hashModel = await ok(admin.GET('/models/{name}', { params: { path: { name: hashingName } } }));
    const hyperedge = await ok(admin.GET('/models/{name}', { params: { path: { name: hyperedgeName } } }));
    gps = hypergraphSpecFromCard(hyperedge.card as unknown as ModelCard, hyperedge.name, hyperedge.version);
  }, API_READY_MS + 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('stacks a /v2 request and a /hypergraphs score request into one inference, and a /v2 and a /hash request into one', async () => {
    const admin = lumenApi(api.url, KEYS.admin);
    const v2 = lumenApi(api.url, KEYS.infer);
    const [candidate] = candidatesOf(gps);
    const before = await inferences(admin, hyperedgeName);
    const [scored, inferred] = await Promise.all([
      ok(lumenApi(api.url, KEYS.hypergraph).POST('/hypergraphs/{name}/score', { params: { path: { name: gps.dataset } }, body: { hyperedges: [candidate] } })),
      ok(v2.POST('/v2/models/{name}/infer', { params: { path: { name: hyperedgeName } }, body: { inputs: hyperedgeTensors(gps, [candidate]), outputs: [{ name: 'score' }] } })),
    ]);
    expect((inferred as InferenceResponse).outputs[0].data).toEqual(scored.scores);
    expect((await inferences(admin, hyperedgeName)) - before).toBe(1);

    const model = hashingModelOf({ name: hashModel.name, version: hashModel.version, card: hashModel.card } as unknown as LoadedModel);
    const bytes = new Uint8Array(fs.readFileSync(path.join(IMAGES, FIXTURES[0])));
    const tensor = await imageToTensor(bytes, model.preprocessing);
    const hashesBefore = await inferences(admin, hashModel.name);
    const [hashed, encoded] = await Promise.all([
      ok(lumenApi(api.url, KEYS.search).POST('/hash', { body: { image: file(bytes, FIXTURES[0]), bits: model.bits } })),
      // JSON: this server's binary limit (4 KiB) is smaller than the image tensor.
      ok(v2.POST('/v2/models/{name}/infer', { params: { path: { name: hashModel.name } }, body: { inputs: [{ name: model.input, datatype: 'FP32', shape: [1, 3, model.preprocessing.height, model.preprocessing.width], data: Array.from(tensor) }] } })),
    ]);
    const code = codeToHex(packSigns(Float32Array.from((encoded as InferenceResponse).outputs[0].data as number[]), 0, model.bits));
    expect(code).toBe(hashed.code);
    expect((await inferences(admin, hashModel.name)) - hashesBefore).toBe(1);
  });

  it('fails only the /v2 request whose values the model rejects, not a score request stacked with it', async () => {
    const [candidate] = candidatesOf(gps);
    const [index, mask] = hyperedgeTensors(gps, [candidate]);
    const [scored, refused] = await Promise.all([
      lumenApi(api.url, KEYS.hypergraph).POST('/hypergraphs/{name}/score', { params: { path: { name: gps.dataset } }, body: { hyperedges: [candidate] } }),
      lumenApi(api.url, KEYS.infer).POST('/v2/models/{name}/infer', { params: { path: { name: hyperedgeName } }, body: { inputs: [{ ...index, data: index.data.map(() => -10_000_000) }, mask] } }),
    ]);
    expect(scored.response.status).toBe(200);
    expect(refused.response.status).toBe(422);
  });

  it('lets a browser on a CORS origin send and read Inference-Header-Content-Length', async () => {
    const preflight = await fetch(`${api.url}/v2/models/${hyperedgeName}/infer`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,inference-header-content-length' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('inference-header-content-length');
    const live = await fetch(`${api.url}/v2/health/live`, { headers: { origin: 'https://app.example.org' } });
    expect(live.headers.get('access-control-expose-headers')).toContain('inference-header-content-length');
  });

  it('refuses a binary body over INFER_MAX_BYTES with 413', async () => {
    const body = new Uint8Array(5 * 1024);
    const response = await fetch(`${api.url}/v2/models/${hyperedgeName}/infer`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.infer, 'content-type': 'application/octet-stream', 'inference-header-content-length': '2' },
      body,
    });
    expect(response.status).toBe(413);
    const problemBody = await response.json();
    expect(problemBody).toMatchObject({ type: 'urn:lumen:problem:inference-body-too-large', maxBytes: 4096 });
  });
});
