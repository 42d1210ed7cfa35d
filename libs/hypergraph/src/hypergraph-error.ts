import { DomainError, type DomainErrorOptions } from '@lumen/errors';
import type { CandidateError } from './candidates.js';

export const HYPERGRAPH_ERROR_CODES = [
  'hypergraph.not-found',
  'hypergraph.unknown-node-type',
  /** The dataset's candidates are too small to leave one node out. */
  'hypergraph.outsiders-unsupported',
  /** Candidates whose JSON shape is wrong (not arrays of {type, id} with an integer id). */
  'hypergraph.malformed-candidates',
  /** Well-formed candidates this dataset cannot score (unknown type, id out of range, size, repeats). */
  'hypergraph.invalid-hyperedge',
] as const;
export type HypergraphErrorCode = (typeof HYPERGRAPH_ERROR_CODES)[number];

export class HypergraphError extends DomainError<HypergraphErrorCode> {
  constructor(code: HypergraphErrorCode, detail: string, options: DomainErrorOptions = {}) {
    super(code, detail, options);
  }
}

/** At most this many errors are listed (a 4,096-candidate request could have 12,288). */
export const MAX_LISTED_CANDIDATE_ERRORS = 100;

/**
 * The refusal of candidates found wrong (`what` names the request field): malformed shapes win
 * over unscorable candidates; the detail quotes the first ten, `errors` lists up to 100.
 */
export function candidatesRejection(errors: CandidateError[], what: string): HypergraphError {
  const listed = errors.slice(0, MAX_LISTED_CANDIDATE_ERRORS).map(({ field, message }) => ({ field, message }));
  const truncated = errors.length > MAX_LISTED_CANDIDATE_ERRORS;
  const detail = `${errors
    .slice(0, 10)
    .map((e) => e.message)
    .join('; ')}${errors.length > 10 ? `; … (${errors.length} errors in ${what})` : ''}`;
  const code = errors.some((e) => e.malformed) ? 'hypergraph.malformed-candidates' : 'hypergraph.invalid-hyperedge';
  return new HypergraphError(code, detail, { errors: listed, details: { errorCount: errors.length, ...(truncated ? { truncated: true } : {}) } });
}
