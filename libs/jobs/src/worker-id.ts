import os from 'node:os';

/**
 * This process as a job worker: host name and pid, unique across a fleet (each container or
 * machine has its own host name) and recorded on every job attempt it runs (`job.worker_id`).
 */
export const WORKER_ID = `${os.hostname()}-${process.pid}`;
