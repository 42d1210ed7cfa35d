-- The ordered write feed of image collections. Every API replica keeps each collection's
-- Hamming index in memory; a write (images added, an image deleted, the collection deleted)
-- appends one row here in the same transaction, and every replica applies the rows after the
-- last one it applied, in "seq" order (woken by NOTIFY lumen_collection_events, polling as a
-- fallback).
--
-- Why a feed of its own rather than image.seq plus a tombstone table: deletes must be ordered
-- against adds (a replica that applies "delete X" before "add X" would keep X), and a collection
-- delete must reach replicas that never loaded the images. Every writer takes the collection
-- row's lock (SELECT ... FOR NO KEY UPDATE) before it inserts images or events, so within one
-- collection event seq and image seq are assigned in commit order: a replica that has applied
-- event N has seen every earlier write of that collection, and images keep the insertion order
-- a single process gives them (the tie order of search).
CREATE TABLE "collection_event" (
    "seq" BIGSERIAL NOT NULL,
    "collection_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "image_id" UUID,
    "first_image_seq" BIGINT,
    "last_image_seq" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "collection_event_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "collection_event_kind_check" CHECK (
        ("kind" = 'add' AND "first_image_seq" IS NOT NULL AND "last_image_seq" IS NOT NULL)
        OR ("kind" = 'delete' AND "image_id" IS NOT NULL)
        OR "kind" = 'drop')
);

-- CreateIndex
CREATE INDEX "collection_event_collection_id_seq_idx" ON "collection_event"("collection_id", "seq");
