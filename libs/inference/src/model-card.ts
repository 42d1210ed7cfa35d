/** One tensor of a model's signature; strings in `shape` name dynamic axes. */
export type TensorSpec = { name: string; dtype: 'float32' | 'int64' | 'float16' | 'int32' | 'uint8'; shape: (number | string)[] };

/** `models/<name>/<version>/card.json`: what a model does and how to feed it, with measured metrics. */
export type ModelCard = {
  name: string;
  version: string;
  task: string;
  description?: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  preprocessing?: Record<string, unknown>;
  labels?: Record<string, string> | string[];
  metrics?: Record<string, unknown> & { command?: string };
  training?: Record<string, unknown>;
  [extra: string]: unknown;
};

export function validateCard(card: unknown, where: string): ModelCard {
  const c = card as Partial<ModelCard>;
  const problems: string[] = [];
  if (typeof c?.name !== 'string') problems.push('name must be a string');
  if (typeof c?.task !== 'string') problems.push('task must be a string');
  for (const key of ['inputs', 'outputs'] as const) {
    if (!Array.isArray(c?.[key]) || !c[key]!.every((t) => typeof t?.name === 'string' && Array.isArray(t?.shape))) {
      problems.push(`${key} must be a list of {name, dtype, shape}`);
    }
  }
  if (problems.length) throw new Error(`Invalid model card ${where}: ${problems.join('; ')}`);
  return { ...(c as ModelCard), version: String(c.version ?? '1') };
}
