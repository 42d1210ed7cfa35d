/** Where a worker's models run. */
export type Device = 'cpu' | 'cuda';

/** What a worker can run one job kind on: the device and the models (a handler's `capability()`). */
export type WorkerCapability = { device: Device; models: string[] };

/** A worker of the fleet as its row (table `worker`) says. */
export type FleetWorker = { id: string; device: Device; models: string[]; kinds: string[] };

/** How often a worker refreshes its row and reconsiders what it consumes. */
export const WORKER_HEARTBEAT_MS = 5000;

/** A worker not heard from for this long is dead (three missed heartbeats). */
export const WORKER_DEAD_AFTER_MS = 3 * WORKER_HEARTBEAT_MS;

export type TakeJobsInput = {
  kind: string;
  /** The kind's handler prefers CUDA workers (`@JobHandler({ prefersCuda: true })`). */
  prefersCuda: boolean;
  self: { id: string; device: Device };
  /** The workers alive now (this one may be among them). */
  live: FleetWorker[];
  /** How long the oldest queued job of the kind has waited; null when none waits. */
  oldestQueuedSeconds: number | null;
  /** CPU_FALLBACK_SECONDS: how long a job preferring CUDA may wait for one before a CPU worker takes it. */
  graceSeconds: number;
};

/**
 * Whether a worker should consume a job kind's queue now, and why (for the log). A CUDA worker,
 * and any worker for a kind without a preference: always. A CPU worker, for a kind that prefers
 * CUDA: only while no other live worker runs that kind on CUDA, or once the oldest queued job of
 * the kind has waited `graceSeconds` (the CUDA workers are busy: a slower answer beats a queue).
 */
export function takesJobs(input: TakeJobsInput): { take: boolean; reason: string } {
  if (!input.prefersCuda) return { take: true, reason: 'no device preference' };
  if (input.self.device === 'cuda') return { take: true, reason: 'runs on CUDA' };
  const cuda = input.live.filter((w) => w.id !== input.self.id && w.device === 'cuda' && w.kinds.includes(input.kind));
  if (!cuda.length) return { take: true, reason: 'no CUDA worker is alive' };
  if (input.oldestQueuedSeconds !== null && input.oldestQueuedSeconds >= input.graceSeconds) {
    return { take: true, reason: `a job has waited ${Math.round(input.oldestQueuedSeconds)} s for the ${cuda.length} CUDA worker(s)` };
  }
  return { take: false, reason: `${cuda.length} CUDA worker(s) alive (${cuda.map((w) => w.id).join(', ')}); taking over after ${input.graceSeconds} s of waiting` };
}
