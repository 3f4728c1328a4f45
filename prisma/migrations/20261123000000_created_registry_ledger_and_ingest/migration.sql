-- CreateEnum
CREATE TYPE "device_kind" AS ENUM ('bin', 'terminal', 'counter');

-- CreateEnum
CREATE TYPE "event_result" AS ENUM ('credited', 'pending', 'rejected');

-- CreateEnum
CREATE TYPE "ledger_source" AS ENUM ('device_event', 'manual', 'redemption', 'gift', 'reversal', 'expiry', 'activity');

-- CreateTable
CREATE TABLE "community" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    "deposit_points_per_unit" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "community_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "resident" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "balance" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "resident_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "card" (
    "uid" TEXT NOT NULL,
    "resident_id" UUID NOT NULL,
    "bound_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "card_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "device" (
    "id" TEXT NOT NULL,
    "kind" "device_kind" NOT NULL,
    "community_id" UUID NOT NULL,
    "label" TEXT,
    "password_hash" TEXT NOT NULL,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_event" (
    "id" BIGSERIAL NOT NULL,
    "device_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "seq" BIGINT,
    "type" TEXT NOT NULL,
    "card_uid" TEXT,
    "resident_id" UUID,
    "payload" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "is_clock_ahead" BOOLEAN NOT NULL DEFAULT false,
    "result" "event_result" NOT NULL,
    "reason" TEXT,
    "points" INTEGER NOT NULL DEFAULT 0,
    "ack" TEXT NOT NULL,
    "claimed_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entry" (
    "id" BIGSERIAL NOT NULL,
    "community_id" UUID NOT NULL,
    "resident_id" UUID NOT NULL,
    "amount" INTEGER NOT NULL,
    "balance_after" INTEGER NOT NULL,
    "source" "ledger_source" NOT NULL,
    "device_event_id" BIGINT,
    "idempotency_key" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dead_letter" (
    "id" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "device_id" TEXT,
    "client_id" TEXT,
    "payload" BYTEA NOT NULL,
    "reason" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dead_letter_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "admin_token" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "admin_token_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "resident_community_id_idx" ON "resident"("community_id");

-- CreateIndex
CREATE INDEX "card_resident_id_idx" ON "card"("resident_id");

-- CreateIndex
CREATE INDEX "device_community_id_idx" ON "device"("community_id");

-- Hand-written partial index: only deposits held for an unknown card are ever
-- looked up by card (to be claimed when the card is bound); indexing every
-- credited event would cost each insert for nothing.
CREATE INDEX "device_event_pending_card_uid_idx" ON "device_event"("card_uid") WHERE "result" = 'pending';

-- CreateIndex
CREATE UNIQUE INDEX "device_event_device_id_event_id_key" ON "device_event"("device_id", "event_id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entry_idempotency_key_key" ON "ledger_entry"("idempotency_key");

-- CreateIndex
CREATE INDEX "ledger_entry_resident_id_id_idx" ON "ledger_entry"("resident_id", "id");

-- CreateIndex
CREATE INDEX "dead_letter_received_at_idx" ON "dead_letter"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "admin_token_token_hash_key" ON "admin_token"("token_hash");

-- AddForeignKey
ALTER TABLE "resident" ADD CONSTRAINT "resident_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "card" ADD CONSTRAINT "card_resident_id_fkey" FOREIGN KEY ("resident_id") REFERENCES "resident"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device" ADD CONSTRAINT "device_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_event" ADD CONSTRAINT "device_event_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entry" ADD CONSTRAINT "ledger_entry_resident_id_fkey" FOREIGN KEY ("resident_id") REFERENCES "resident"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written (Prisma cannot express these): the ledger's invariants, enforced by
-- the database itself so that no code path can break them.
ALTER TABLE "resident" ADD CONSTRAINT "resident_balance_non_negative" CHECK ("balance" >= 0);
ALTER TABLE "ledger_entry" ADD CONSTRAINT "ledger_entry_balance_after_non_negative" CHECK ("balance_after" >= 0);

-- The ledger is append-only: corrections are reversal entries, never edits.
CREATE FUNCTION "ledger_entry_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are append-only: post a reversal instead of %', TG_OP;
END;
$$;
CREATE TRIGGER "ledger_entry_append_only" BEFORE UPDATE OR DELETE ON "ledger_entry"
  FOR EACH ROW EXECUTE FUNCTION "ledger_entry_refuse_change"();
