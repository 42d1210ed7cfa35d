import type { FieldError } from '@lumen/http';
import { type InferenceRequest, type Signature, parseInferenceRequest } from './inference-request.js';

/** A signature like a Hyper-SAGNN model's: two inputs sharing named axes, two outputs. */
const HYPERGRAPH: Signature = {
  inputs: [
    { name: 'node_index', dtype: 'int64', shape: ['batch', 'size'] },
    { name: 'node_mask', dtype: 'float32', shape: ['batch', 'size'] },
  ],
  outputs: [
    { name: 'node_prob', dtype: 'float32', shape: ['batch', 'size'] },
    { name: 'score', dtype: 'float32', shape: ['batch'] },
  ],
};
const IMAGE: Signature = { inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 2, 2] }], outputs: [{ name: 'code', dtype: 'float32', shape: ['batch', 8] }] };
const NONE = new Uint8Array(0);

const index = (shape = [1, 2], data: unknown = [4, 5]) => ({ name: 'node_index', datatype: 'INT64', shape, data });
const mask = (shape = [1, 2], data: unknown = [1, 1]) => ({ name: 'node_mask', datatype: 'FP32', shape, data });

function accepted(body: unknown, signature = HYPERGRAPH, binary = NONE): InferenceRequest {
  const parsed = parseInferenceRequest(body, binary, signature);
  if (Array.isArray(parsed)) throw new Error(`refused: ${parsed.map((e) => e.message).join('; ')}`);
  return parsed;
}

function refused(body: unknown, signature = HYPERGRAPH, binary = NONE): FieldError[] {
  const parsed = parseInferenceRequest(body, binary, signature);
  if (!Array.isArray(parsed)) throw new Error('accepted');
  return parsed;
}

describe('parseInferenceRequest: valid requests', () => {
  it('decodes JSON tensors and asks for every output as JSON by default', () => {
    const request = accepted({ id: 'r1', inputs: [index([2, 2], [[1, 2], [3, 4]]), mask([2, 2], [1, 1, 1, 0])] });
    expect(request.id).toBe('r1');
    expect(request.inputs.map((i) => [i.name, i.type, i.shape])).toEqual([
      ['node_index', 'int64', [2, 2]],
      ['node_mask', 'float32', [2, 2]],
    ]);
    expect(request.inputs[0].data).toEqual(new BigInt64Array([1n, 2n, 3n, 4n]));
    expect(request.outputs).toEqual([
      { name: 'node_prob', binary: false },
      { name: 'score', binary: false },
    ]);
  });

  it('takes binary tensors in input order after the header, and binary output flags', () => {
    const idx = new BigInt64Array([7n, 8n]);
    const msk = new Float32Array([1, 0]);
    const binary = new Uint8Array([...new Uint8Array(idx.buffer), ...new Uint8Array(msk.buffer)]);
    const request = accepted(
      {
        inputs: [
          { name: 'node_index', datatype: 'INT64', shape: [1, 2], parameters: { binary_data_size: 16 } },
          { name: 'node_mask', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
        ],
        outputs: [{ name: 'score', parameters: { binary_data: true } }, { name: 'node_prob' }],
        parameters: { binary_data_output: false },
      },
      HYPERGRAPH,
      binary,
    );
    expect(request.inputs[0].data).toEqual(idx);
    expect(request.inputs[1].data).toEqual(msk);
    expect(request.outputs).toEqual([
      { name: 'score', binary: true },
      { name: 'node_prob', binary: false },
    ]);
    const all = accepted({ inputs: [index(), mask()], parameters: { binary_data_output: true } });
    expect(all.outputs.every((o) => o.binary)).toBe(true);
  });
});

describe('parseInferenceRequest: faults name the input and field', () => {
  const fields = (errors: FieldError[]) => errors.map((e) => e.field);
  const messages = (errors: FieldError[]) => errors.map((e) => e.message);

  it('an unknown, duplicated or missing input', () => {
    expect(messages(refused({ inputs: [index(), mask(), { ...mask(), name: 'weights' }] }))).toEqual([
      'inputs[2] (weights): the model has no input "weights" (it takes node_index, node_mask)',
    ]);
    expect(messages(refused({ inputs: [index(), index()] }))).toEqual([
      'inputs[1] (node_index): given twice (also inputs[0])',
      'inputs: missing node_mask (the model takes node_index, node_mask)',
    ]);
    expect(fields(refused({ inputs: [] }))).toEqual(['inputs']);
    expect(fields(refused({}))).toEqual(['inputs']);
  });

  it("a datatype other than the model's", () => {
    expect(refused({ inputs: [index(), { ...mask(), datatype: 'FP64' }] })).toEqual([
      { field: 'inputs[1].datatype', message: "inputs[1] (node_mask): datatype FP64 does not match the model's FP32" },
    ]);
    expect(messages(refused({ inputs: [index(), { ...mask(), datatype: 'float' }] }))[0]).toMatch(/^inputs\[1\] \(node_mask\): datatype must be one of BOOL, /);
  });

  it('a shape of the wrong rank, a wrong fixed axis, named axes that disagree', () => {
    expect(messages(refused({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 2], data: [] }] }, IMAGE))).toEqual([
      "inputs[0] (image): shape [1, 3, 2] has 3 axes; the model's [batch, 3, 2, 2] has 4",
    ]);
    expect(messages(refused({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 1, 2, 2], data: [1, 2, 3, 4] }] }, IMAGE))).toEqual([
      "inputs[0] (image): axis 1 is 1; the model's shape [batch, 3, 2, 2] fixes it at 3",
    ]);
    expect(refused({ inputs: [index([1, 2]), mask([1, 3], [1, 1, 1])] })).toEqual([
      { field: 'inputs[1].shape', message: 'inputs[1] (node_mask): axis "size" is 3 here but 2 in inputs[0] (node_index)' },
    ]);
    expect(messages(refused({ inputs: [index([0, 2], []), mask([0, 2], [])] }))[0]).toBe('inputs[0] (node_index): axis 0 ("batch") is 0; it must be at least 1');
    expect(fields(refused({ inputs: [index([1, -2]), mask()] }))).toEqual(['inputs[0].shape']);
  });

  it("named axes that are not a multiple of the card's sizeDivisor (the batch axis excepted)", () => {
    const unet: Signature = { inputs: [{ name: 'image', dtype: 'float32', shape: [1, 1, 'z', 'y', 'x'] }], outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 4, 'z', 'y', 'x'] }], sizeDivisor: 8 };
    const volume = (shape: number[]) => ({ inputs: [{ name: 'image', datatype: 'FP32', shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0) }] });
    expect(accepted(volume([1, 1, 8, 16, 8]), unet).inputs[0].shape).toEqual([1, 1, 8, 16, 8]);
    expect(refused(volume([1, 1, 8, 12, 8]), unet)).toEqual([
      { field: 'inputs[0].shape', message: "inputs[0] (image): axis 3 (\"y\") is 12; the model needs a multiple of 8 (its card's preprocessing.sizeDivisor)" },
    ]);
    expect(accepted({ inputs: [index([3, 2], [1, 2, 3, 4, 5, 6]), mask([3, 2], [1, 1, 1, 1, 1, 1])] }, { ...HYPERGRAPH, sizeDivisor: 2, batchAxis: 'batch' }).inputs[0].shape).toEqual([3, 2]);
  });

  it('data that does not fill the shape or does not fit the datatype', () => {
    expect(refused({ inputs: [index([1, 2], [4]), mask()] })).toEqual([{ field: 'inputs[0].data', message: 'inputs[0] (node_index): data has 1 elements; the shape holds 2' }]);
    expect(messages(refused({ inputs: [index([1, 2], [4, 'x']), mask()] }))[0]).toMatch(/^inputs\[0\] \(node_index\): data element 1 is "x": INT64 values must be integers/);
    expect(messages(refused({ inputs: [{ name: 'node_index', datatype: 'INT64', shape: [1, 2] }, mask()] }))[0]).toBe(
      'inputs[0] (node_index): data is missing (JSON data, or parameters.binary_data_size with the binary tensor extension)',
    );
  });

  it('binary sizes that do not match the shape or the body', () => {
    const binaryIndex = (size: number) => ({ name: 'node_index', datatype: 'INT64', shape: [1, 2], parameters: { binary_data_size: size } });
    expect(messages(refused({ inputs: [binaryIndex(8), mask()] }, HYPERGRAPH, new Uint8Array(8)))).toEqual([
      'inputs[0] (node_index): binary_data_size is 8 bytes; shape [1, 2] of INT64 takes 16',
    ]);
    expect(messages(refused({ inputs: [binaryIndex(16), mask()] }, HYPERGRAPH, new Uint8Array(10)))).toEqual([
      'inputs[0] (node_index): its binary data (bytes 0..16 after the JSON header) runs past the end of the body (10 bytes of binary data)',
    ]);
    expect(messages(refused({ inputs: [index(), mask()] }, HYPERGRAPH, new Uint8Array(4)))).toEqual([
      'the body has 4 bytes of binary data after the JSON header but its inputs declare 0 (binary_data_size)',
    ]);
    expect(fields(refused({ inputs: [{ ...binaryIndex(16), data: [1, 2] }, mask()] }, HYPERGRAPH, new Uint8Array(16)))).toEqual(['inputs[0].data']);
  });

  it('unknown fields, parameters and outputs', () => {
    expect(fields(refused({ inputs: [index(), mask()], model: 'x' }))).toEqual(['model']);
    expect(fields(refused({ inputs: [{ ...index(), scale: 2 }, mask()] }))).toEqual(['inputs[0].scale']);
    expect(fields(refused({ inputs: [index(), mask()], parameters: { priority: 1 } }))).toEqual(['parameters.priority']);
    expect(fields(refused({ inputs: [index(), mask()], outputs: [{ name: 'score', parameters: { classification: 3 } }] }))).toEqual(['outputs[0].parameters.classification']);
    expect(messages(refused({ inputs: [index(), mask()], outputs: [{ name: 'logits' }] }))).toEqual(['outputs[0]: the model has no output "logits" (it gives node_prob, score)']);
    expect(fields(refused({ inputs: [index(), mask()], outputs: [{ name: 'score' }, { name: 'score' }] }))).toEqual(['outputs[1].name']);
    expect(fields(refused('inputs'))).toEqual([undefined]);
    expect(fields(refused({ inputs: [index(), mask()], id: 7 }))).toEqual(['id']);
  });

  it('lists every fault at once', () => {
    expect(fields(refused({ inputs: [{ ...index(), datatype: 'FP32' }, mask([1, 2], [1])], outputs: [{ name: 'x' }] }))).toEqual([
      'inputs[0].datatype',
      'inputs[1].data',
      'outputs[0].name',
    ]);
  });
});
