import type { HypergraphSpec, NodeTypeSpec } from './hypergraph-spec.js';

/** A node as clients name it: its type and its per-type id. */
export type CandidateNode = { type: string; id: number };

/**
 * One thing wrong with a submitted candidate. `malformed` errors are about the JSON shape
 * (400); the others are well-formed requests this dataset cannot score (422).
 */
export type CandidateError = { field: string; message: string; malformed: boolean };

const NODE_FIELDS = ['type', 'id'];

/**
 * Checks candidates against a dataset and turns them into global node indices
 * (`offset[type] + id`). Every problem is reported with its path, e.g.
 * `hyperedges[3][1]: id 146 is out of range for type user (0..145)`.
 */
export class CandidateResolver {
  private readonly types: Map<string, NodeTypeSpec>;

  constructor(private readonly spec: HypergraphSpec) {
    this.types = new Map(spec.nodeTypes.map((t) => [t.name, t]));
  }

  /** Global indices of one candidate at `path`, or the errors found in it (pushed to `errors`). */
  resolve(value: unknown, path: string, errors: CandidateError[], minSize = this.spec.minCandidateSize): number[] | null {
    const { maxCandidateSize } = this.spec;
    if (!Array.isArray(value)) {
      errors.push({ field: path, message: `${path}: must be an array of {type, id} nodes`, malformed: true });
      return null;
    }
    const before = errors.length;
    if (value.length < minSize || value.length > maxCandidateSize) {
      const range = minSize === maxCandidateSize ? `${minSize}` : `${minSize}..${maxCandidateSize}`;
      errors.push({ field: path, message: `${path}: has ${value.length} node(s); ${this.spec.dataset} candidates need ${range}`, malformed: false });
    }
    const indices: number[] = [];
    const seen = new Map<number, number>();
    value.forEach((node: unknown, position) => {
      const at = `${path}[${position}]`;
      const index = this.node(node, at, errors);
      if (index === null) return;
      const first = seen.get(index);
      if (first !== undefined) {
        const { type, id } = node as CandidateNode;
        errors.push({ field: at, message: `${at}: ${type} ${id} appears twice (also at ${path}[${first}])`, malformed: false });
      } else seen.set(index, position);
      indices.push(index);
    });
    return errors.length === before ? indices : null;
  }

  private node(node: unknown, at: string, errors: CandidateError[]): number | null {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      errors.push({ field: at, message: `${at}: must be an object {type, id}`, malformed: true });
      return null;
    }
    const before = errors.length;
    for (const key of Object.keys(node)) {
      if (!NODE_FIELDS.includes(key)) errors.push({ field: `${at}.${key}`, message: `${at}: unknown field "${key}" (a node has only type and id)`, malformed: true });
    }
    const { type, id } = node as Partial<Record<string, unknown>>;
    if (typeof type !== 'string') errors.push({ field: `${at}.type`, message: `${at}: type must be a string`, malformed: true });
    if (typeof id !== 'number' || !Number.isInteger(id)) {
      errors.push({ field: `${at}.id`, message: `${at}: id must be an integer${id === undefined ? '' : ` (got ${JSON.stringify(id)})`}`, malformed: true });
    }
    if (errors.length > before) return null;
    const spec = this.types.get(type as string);
    if (!spec) {
      const known = this.spec.nodeTypes.map((t) => t.name).join(', ');
      errors.push({ field: `${at}.type`, message: `${at}: unknown node type "${type as string}" (${this.spec.dataset} has ${known})`, malformed: false });
      return null;
    }
    if ((id as number) < 0 || (id as number) >= spec.count) {
      errors.push({ field: `${at}.id`, message: `${at}: id ${id as number} is out of range for type ${spec.name} (0..${spec.count - 1})`, malformed: false });
      return null;
    }
    return spec.offset + (id as number);
  }
}
