// Settings shared by the property-based fuzz tests (`*.fuzz.spec.ts`, fast-check). In `npm test`
// each property runs a short, fixed-seed pass (reproducible, committed here); `npm run fuzz` runs
// them long (FUZZ_RUNS, default 20,000 there) and with FUZZ_SEED set to a new seed explores new
// inputs. A counterexample fast-check prints becomes a named regression case in the spec (and,
// where it reaches the API, a case of test/fixtures/bad-inputs/cases.json).
import type { Parameters } from 'fast-check';

/** The committed seed of the short pass. */
export const FUZZ_SEED = 20261201;

/** fast-check parameters: `short` runs in npm test, FUZZ_RUNS (npm run fuzz) overrides it. */
export function fuzz<T>(short: number): Parameters<T> {
  const runs = Number(process.env.FUZZ_RUNS ?? short);
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : FUZZ_SEED;
  return { numRuns: runs, seed, verbose: 1 };
}

/** A Jest timeout that grows with FUZZ_RUNS: `perRunMs` per run over the short pass's budget. */
export function fuzzTimeout(short: number, perRunMs: number): number {
  return Math.max(30_000, Number(process.env.FUZZ_RUNS ?? short) * perRunMs);
}
