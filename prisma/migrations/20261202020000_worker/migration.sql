-- The worker processes of the fleet and what they can run: each worker upserts its row at start
-- and every few seconds (heartbeat_at), and deletes it when it stops. A row whose heartbeat is
-- older than three intervals is a dead worker. Segmentation prefers CUDA workers while one is
-- alive (libs/jobs worker-fleet).
CREATE TABLE "worker" (
    "id" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "models" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "kinds" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "worker_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "worker_device_check" CHECK ("device" IN ('cpu', 'cuda'))
);

-- CreateIndex: running jobs per worker, for /metrics
CREATE INDEX "job_worker_id_status_idx" ON "job"("worker_id", "status");
