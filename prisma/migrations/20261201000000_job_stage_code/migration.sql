-- AlterTable: the stage as a code (JobStage in libs/jobs) beside the human text in "stage".
ALTER TABLE "job" ADD COLUMN "stage_code" TEXT NOT NULL DEFAULT 'queued';

-- Existing records: the code their status implies.
UPDATE "job" SET "stage_code" = CASE "status"
    WHEN 'queued' THEN CASE WHEN "attempts" > 0 THEN 'retrying' ELSE 'queued' END
    WHEN 'running' THEN 'running'
    WHEN 'succeeded' THEN 'done'
    WHEN 'failed' THEN 'failed'
    WHEN 'canceled' THEN 'canceled'
END;
