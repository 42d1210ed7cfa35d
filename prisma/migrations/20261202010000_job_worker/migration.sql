-- AlterTable: which worker process ran the job's latest attempt (WORKER_ID: host name and pid),
-- so that operators and the multi-process tests can tell the workers of a fleet apart.
ALTER TABLE "job" ADD COLUMN "worker_id" TEXT;
