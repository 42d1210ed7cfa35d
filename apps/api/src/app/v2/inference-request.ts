import type { FieldError } from '@lumen/http';
import type { TensorSpec } from '@lumen/inference';
import { type OrtType, PROTOCOL_DATATYPES, type TensorData, datatypeOf, elementBytes, fromBytes, fromJson } from './tensor-codec.js';

/** One input of a request, checked against the model's signature and decoded. */
export type InferenceInput = { name: string; type: OrtType; shape: number[]; data: TensorData };

/** An output the request asks for, and whether it comes back as binary data. */
export type RequestedOutput = { name: string; binary: boolean };

export type InferenceRequest = { id?: string; inputs: InferenceInput[]; outputs: RequestedOutput[] };

/**
 * What a model takes and gives (its card's inputs and outputs) and, when its card says so, the
 * multiple its named axes other than the batch axis must be (preprocessing.sizeDivisor: the
 * poolings of a U-Net).
 */
export type Signature = { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[]; sizeDivisor?: number; batchAxis?: string | null };

/** Most elements one input may hold (2^28: 1 GiB of FP32), so a shape cannot ask for an absurd allocation. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fields of `value` outside `known`, as errors under `path`. */
function unknownFields(value: Json, known: readonly string[], path: string, what: string): FieldError[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => ({ field: path ? `${path}.${key}` : key, message: `${path || 'the request'}: unknown ${what} "${key}" (allowed: ${known.join(', ')})` }));
}

/**
 * Checks an Open Inference Protocol inference request against the model's signature and decodes
 * its tensors: every model input exactly once, with the model's datatype, a shape of the model's
 * rank whose fixed axes match and whose named axes ("batch", "z"...) agree across inputs, and data
 * (JSON `data`, or `parameters.binary_data_size` bytes of `binary`, in input order) holding
 * exactly the shape's elements. Returns the decoded request, or every fault found, each naming
 * the input at fault (`inputs[1] (node_mask): ...`).
 */
export function parseInferenceRequest(body: unknown, binary: Uint8Array, signature: Signature): InferenceRequest | FieldError[] {
  if (!isObject(body)) return [{ message: 'The request must be a JSON object with "inputs" (the Open Inference Protocol inference request)' }];
  const errors: FieldError[] = unknownFields(body, ['id', 'parameters', 'inputs', 'outputs'], '', 'field');
  if (body.id !== undefined && typeof body.id !== 'string') errors.push({ field: 'id', message: 'id must be a string' });

  let binaryOutput = false;
  if (body.parameters !== undefined) {
    if (!isObject(body.parameters)) errors.push({ field: 'parameters', message: 'parameters must be an object' });
    else {
      errors.push(...unknownFields(body.parameters, ['binary_data_output'], 'parameters', 'parameter'));
      const flag = body.parameters.binary_data_output;
      if (flag !== undefined && typeof flag !== 'boolean') errors.push({ field: 'parameters.binary_data_output', message: 'parameters.binary_data_output must be true or false' });
      binaryOutput = flag === true;
    }
  }

  const inputs = parseInputs(body.inputs, binary, signature, errors);
  const outputs = parseOutputs(body.outputs, signature, binaryOutput, errors);
  if (errors.length) return errors;
  return { ...(typeof body.id === 'string' ? { id: body.id } : {}), inputs, outputs };
}

function parseInputs(value: unknown, binary: Uint8Array, signature: Signature, errors: FieldError[]): InferenceInput[] {
  const expected = signature.inputs.map((s) => s.name).join(', ');
  if (!Array.isArray(value) || value.length === 0) {
    errors.push({ field: 'inputs', message: `inputs must be a non-empty array of tensors {name, shape, datatype, data} (the model takes ${expected})` });
    return [];
  }
  const inputs: InferenceInput[] = [];
  const axes = new Map<string, { size: number; where: string }>();
  const seen = new Map<string, number>();
  let offset = 0;
  value.forEach((raw, i) => {
    const path = `inputs[${i}]`;
    if (!isObject(raw)) return void errors.push({ field: path, message: `${path} must be an object {name, shape, datatype, data}` });
    const before = errors.length;
    errors.push(...unknownFields(raw, ['name', 'shape', 'datatype', 'parameters', 'data'], path, 'field'));
    const spec = typeof raw.name === 'string' ? signature.inputs.find((s) => s.name === raw.name) : undefined;
    if (typeof raw.name !== 'string') return void errors.push({ field: `${path}.name`, message: `${path}.name must be a string (the model takes ${expected})` });
    const at = `${path} (${raw.name})`;
    if (!spec) return void errors.push({ field: `${path}.name`, message: `${at}: the model has no input "${raw.name}" (it takes ${expected})` });
    if (seen.has(spec.name)) return void errors.push({ field: `${path}.name`, message: `${at}: given twice (also inputs[${seen.get(spec.name)}])` });
    seen.set(spec.name, i);

    const wanted = datatypeOf(spec);
    if (typeof raw.datatype !== 'string' || !PROTOCOL_DATATYPES.includes(raw.datatype)) {
      errors.push({ field: `${path}.datatype`, message: `${at}: datatype must be one of ${PROTOCOL_DATATYPES.join(', ')} (this input is ${wanted})` });
    } else if (raw.datatype !== wanted) {
      errors.push({ field: `${path}.datatype`, message: `${at}: datatype ${raw.datatype} does not match the model's ${wanted}` });
    }
    const shape = checkShape(raw.shape, spec, signature, at, `${path}.shape`, axes, errors);

    let binarySize: number | undefined;
    if (raw.parameters !== undefined) {
      if (!isObject(raw.parameters)) errors.push({ field: `${path}.parameters`, message: `${at}: parameters must be an object` });
      else {
        errors.push(...unknownFields(raw.parameters, ['binary_data_size'], `${path}.parameters`, 'parameter'));
        const size = raw.parameters.binary_data_size;
        if (size !== undefined && !(Number.isSafeInteger(size) && (size as number) >= 0)) {
          errors.push({ field: `${path}.parameters.binary_data_size`, message: `${at}: binary_data_size must be a non-negative integer (bytes)` });
        } else binarySize = size as number | undefined;
      }
    }
    if (binarySize !== undefined && raw.data !== undefined) errors.push({ field: `${path}.data`, message: `${at}: give either data or parameters.binary_data_size, not both` });
    if (binarySize === undefined && raw.data === undefined) errors.push({ field: `${path}.data`, message: `${at}: data is missing (JSON data, or parameters.binary_data_size with the binary tensor extension)` });
    // Binary sections follow the JSON in input order, so every declared size moves the offset.
    const start = offset;
    if (binarySize !== undefined) offset += binarySize;
    if (errors.length > before || !shape) return;

    const count = shape.reduce((a, b) => a * b, 1);
    const type = spec.dtype as OrtType;
    let data: TensorData | string;
    if (binarySize !== undefined) {
      const bytes = count * elementBytes(type);
      if (binarySize !== bytes) data = `binary_data_size is ${binarySize} bytes; shape [${shape.join(', ')}] of ${wanted} takes ${bytes}`;
      else if (start + binarySize > binary.length) data = `its binary data (bytes ${start}..${start + binarySize} after the JSON header) runs past the end of the body (${binary.length} bytes of binary data)`;
      else data = fromBytes(type, binary.subarray(start, start + binarySize));
    } else {
      data = fromJson(type, raw.data, count);
    }
    if (typeof data === 'string') return void errors.push({ field: binarySize === undefined ? `${path}.data` : `${path}.parameters.binary_data_size`, message: `${at}: ${data}` });
    inputs.push({ name: spec.name, type, shape, data });
  });
  const missing = signature.inputs.filter((s) => !seen.has(s.name)).map((s) => s.name);
  if (missing.length) errors.push({ field: 'inputs', message: `inputs: missing ${missing.join(', ')} (the model takes ${expected})` });
  if (offset < binary.length) {
    errors.push({ field: 'parameters', message: `the body has ${binary.length} bytes of binary data after the JSON header but its inputs declare ${offset} (binary_data_size)` });
  }
  return inputs;
}

/** The request's shape when it fits the model's: same rank, fixed axes equal, named axes ≥ 1 and equal across inputs. */
function checkShape(value: unknown, spec: TensorSpec, signature: Signature, at: string, field: string, axes: Map<string, { size: number; where: string }>, errors: FieldError[]): number[] | null {
  const divisor = signature.sizeDivisor && signature.sizeDivisor > 1 ? signature.sizeDivisor : null;
  const declared = `[${spec.shape.join(', ')}]`;
  if (!Array.isArray(value) || !value.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    errors.push({ field, message: `${at}: shape must be an array of non-negative integers (the model's is ${declared})` });
    return null;
  }
  const shape = value as number[];
  if (shape.length !== spec.shape.length) {
    errors.push({ field, message: `${at}: shape [${shape.join(', ')}] has ${shape.length} axes; the model's ${declared} has ${spec.shape.length}` });
    return null;
  }
  const before = errors.length;
  spec.shape.forEach((axis, k) => {
    const size = shape[k];
    if (typeof axis === 'number') {
      if (size !== axis) errors.push({ field, message: `${at}: axis ${k} is ${size}; the model's shape ${declared} fixes it at ${axis}` });
      return;
    }
    if (size < 1) return void errors.push({ field, message: `${at}: axis ${k} ("${axis}") is ${size}; it must be at least 1` });
    if (divisor && axis !== signature.batchAxis && size % divisor !== 0) {
      return void errors.push({ field, message: `${at}: axis ${k} ("${axis}") is ${size}; the model needs a multiple of ${divisor} (its card's preprocessing.sizeDivisor)` });
    }
    const other = axes.get(axis);
    if (other && other.size !== size) errors.push({ field, message: `${at}: axis "${axis}" is ${size} here but ${other.size} in ${other.where}` });
    else if (!other) axes.set(axis, { size, where: at });
  });
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_TENSOR_ELEMENTS) errors.push({ field, message: `${at}: shape [${shape.join(', ')}] holds ${count} elements; at most ${MAX_TENSOR_ELEMENTS} are accepted` });
  return errors.length > before ? null : shape;
}

function parseOutputs(value: unknown, signature: Signature, binaryOutput: boolean, errors: FieldError[]): RequestedOutput[] {
  if (value === undefined) return signature.outputs.map((s) => ({ name: s.name, binary: binaryOutput }));
  const expected = signature.outputs.map((s) => s.name).join(', ');
  if (!Array.isArray(value)) {
    errors.push({ field: 'outputs', message: `outputs must be an array of {name, parameters} (the model gives ${expected})` });
    return [];
  }
  const outputs: RequestedOutput[] = [];
  value.forEach((raw, i) => {
    const path = `outputs[${i}]`;
    if (!isObject(raw) || typeof raw.name !== 'string') return void errors.push({ field: path, message: `${path} must be an object with a name (the model gives ${expected})` });
    errors.push(...unknownFields(raw, ['name', 'parameters'], path, 'field'));
    if (!signature.outputs.some((s) => s.name === raw.name)) return void errors.push({ field: `${path}.name`, message: `${path}: the model has no output "${raw.name}" (it gives ${expected})` });
    if (outputs.some((o) => o.name === raw.name)) return void errors.push({ field: `${path}.name`, message: `${path}: output "${raw.name}" asked for twice` });
    let binary = binaryOutput;
    if (raw.parameters !== undefined) {
      if (!isObject(raw.parameters)) return void errors.push({ field: `${path}.parameters`, message: `${path}: parameters must be an object` });
      errors.push(...unknownFields(raw.parameters, ['binary_data'], `${path}.parameters`, 'parameter'));
      const flag = raw.parameters.binary_data;
      if (flag !== undefined && typeof flag !== 'boolean') errors.push({ field: `${path}.parameters.binary_data`, message: `${path}: binary_data must be true or false` });
      else if (flag !== undefined) binary = flag;
    }
    outputs.push({ name: raw.name, binary });
  });
  return outputs;
}
