-- The integrity bank (issue #3): households and buildings, the card lifecycle,
-- a double-entry hash-chained ledger, staff users and the audit log, the points
-- supermarket. Hand-written; prisma/schema.prisma mirrors it.

-- Registry: communities -> buildings -> households -> residents ---------------
CREATE TABLE "building" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL REFERENCES "community"("id"),
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "building_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "building_community_id_name_key" ON "building"("community_id", "name");

CREATE TABLE "household" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL REFERENCES "community"("id"),
    "building_id" UUID REFERENCES "building"("id"),
    -- As the community writes it, e.g. "3-2-201" (building-unit-room).
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "household_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "household_community_id_name_key" ON "household"("community_id", "name");
CREATE INDEX "household_building_id_idx" ON "household"("building_id");

ALTER TABLE "resident"
    ADD COLUMN "household_id" UUID REFERENCES "household"("id"),
    -- The community's own reference (register number): what makes a re-import idempotent.
    ADD COLUMN "external_ref" TEXT,
    ADD COLUMN "phone" TEXT,
    -- Credits waiting for review: shown, not spendable.
    ADD COLUMN "pending_points" INTEGER NOT NULL DEFAULT 0,
    ADD CONSTRAINT "resident_pending_points_non_negative" CHECK ("pending_points" >= 0);
CREATE UNIQUE INDEX "resident_community_id_external_ref_key" ON "resident"("community_id", "external_ref");
CREATE INDEX "resident_household_id_idx" ON "resident"("household_id");

-- Where a resident lived when: a move closes one row and opens another.
CREATE TABLE "residence" (
    "id" BIGSERIAL NOT NULL,
    "resident_id" UUID NOT NULL REFERENCES "resident"("id"),
    "household_id" UUID NOT NULL REFERENCES "household"("id"),
    "from_at" TIMESTAMPTZ(3) NOT NULL,
    "to_at" TIMESTAMPTZ(3),
    "actor" TEXT NOT NULL,
    CONSTRAINT "residence_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "residence_resident_id_idx" ON "residence"("resident_id", "from_at");
CREATE UNIQUE INDEX "residence_one_current_key" ON "residence"("resident_id") WHERE "to_at" IS NULL;

-- Cards: one row per uid (one holder at a time), every change in card_change ----
CREATE TYPE "card_status" AS ENUM ('active', 'lost', 'replaced', 'unbound');
ALTER TABLE "card"
    ADD COLUMN "status" "card_status" NOT NULL DEFAULT 'active',
    ADD COLUMN "status_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ADD COLUMN "replaced_by_uid" TEXT;

CREATE TYPE "card_action" AS ENUM ('bound', 'reported_lost', 'replaced', 'unbound');
CREATE TABLE "card_change" (
    "id" BIGSERIAL NOT NULL,
    "uid" TEXT NOT NULL,
    "resident_id" UUID NOT NULL REFERENCES "resident"("id"),
    "action" "card_action" NOT NULL,
    "replacement_uid" TEXT,
    "reason" TEXT,
    "actor" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "card_change_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "card_change_uid_idx" ON "card_change"("uid", "id");
CREATE INDEX "card_change_resident_id_idx" ON "card_change"("resident_id", "id");
INSERT INTO "card_change" ("uid", "resident_id", "action", "actor", "at")
    SELECT "uid", "resident_id", 'bound', 'migration', "bound_at" FROM "card";

-- Community settings of the bank ------------------------------------------------
ALTER TABLE "community"
    -- Held deposits of an unknown card are credited if the card is bound within this many days.
    ADD COLUMN "claim_window_days" INTEGER NOT NULL DEFAULT 30,
    ADD COLUMN "gift_daily_limit" INTEGER NOT NULL DEFAULT 100,
    ADD COLUMN "redemption_cancel_minutes" INTEGER NOT NULL DEFAULT 30,
    -- null: points never expire; {"kind":"year-end"} or {"kind":"months","months":12}.
    ADD COLUMN "expiry_policy" JSONB;

-- The ledger: double entry, append-only, hash-chained per community ------------
-- Every entry moves `amount` (> 0) from a debit account to a credit account, so
-- every posting sums to zero by construction. Accounts are named:
--   resident:<uuid>, issuance:<community>, supermarket:<community>, expiry:<community>.
-- kind: posted (moves balances), pending (shows as pending credit, moves nothing),
-- settle / void (closes a pending entry: settle moves the balance, void does not).
CREATE TYPE "ledger_kind" AS ENUM ('posted', 'pending', 'settle', 'void');
ALTER TYPE "ledger_source" ADD VALUE 'opening';

DROP TRIGGER "ledger_entry_append_only" ON "ledger_entry";
ALTER TABLE "ledger_entry"
    ADD COLUMN "kind" "ledger_kind" NOT NULL DEFAULT 'posted',
    ADD COLUMN "debit_account" TEXT,
    ADD COLUMN "credit_account" TEXT,
    -- No foreign keys to resident: the check cost the ingest hot path 20 ms per 480-event
    -- batch (scripts/bench/db-batch.ts). Every writer locks the resident rows it posts to
    -- (libs/persistence/src/ledger/append-entries.ts), so they exist, and residents are
    -- never deleted (trigger below); ledger verify checks these columns against the accounts.
    ADD COLUMN "debit_resident_id" UUID,
    ADD COLUMN "credit_resident_id" UUID,
    -- The resident's posted balance after this entry, on each side that is a resident.
    ADD COLUMN "debit_balance_after" INTEGER,
    ADD COLUMN "credit_balance_after" INTEGER,
    ADD COLUMN "pending_entry_id" BIGINT REFERENCES "ledger_entry"("id"),
    ADD COLUMN "reverses_entry_id" BIGINT REFERENCES "ledger_entry"("id"),
    ADD COLUMN "chain_seq" BIGINT,
    ADD COLUMN "prev_hash" TEXT,
    ADD COLUMN "hash" TEXT;

-- The entries so far are device-event credits from the issuance account.
UPDATE "ledger_entry" SET
    "debit_account" = 'issuance:' || "community_id",
    "credit_account" = 'resident:' || "resident_id",
    "credit_resident_id" = "resident_id",
    "credit_balance_after" = "balance_after";

-- Chain them with the canonical form the application uses (libs/domain/src/ledger/entry-hash.ts;
-- device_event_id is not covered: the hot path learns it only when the row is written, and the
-- idempotency key names the event):
-- each field as <UTF-8 byte length>:<text>, null as ~, joined by nothing;
-- hash = sha256_hex(prev_hash || '\n' || canonical); the first prev_hash is 64 zeros.
CREATE FUNCTION "ledger_canonical_field"(v TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN v IS NULL THEN '~' ELSE octet_length(v)::text || ':' || v END
$$;
DO $$
DECLARE
  e RECORD;
  prev TEXT;
  seq BIGINT;
  current_community UUID := NULL;
  canonical TEXT;
BEGIN
  FOR e IN SELECT * FROM "ledger_entry" ORDER BY "community_id", "id" LOOP
    IF current_community IS DISTINCT FROM e."community_id" THEN
      current_community := e."community_id";
      prev := repeat('0', 64);
      seq := 0;
    END IF;
    seq := seq + 1;
    canonical := "ledger_canonical_field"(e."community_id"::text)
      || "ledger_canonical_field"(seq::text)
      || "ledger_canonical_field"(e."kind"::text)
      || "ledger_canonical_field"(e."debit_account")
      || "ledger_canonical_field"(e."credit_account")
      || "ledger_canonical_field"(e."amount"::text)
      || "ledger_canonical_field"(e."source"::text)
      || "ledger_canonical_field"(NULL)
      || "ledger_canonical_field"(NULL)
      || "ledger_canonical_field"(e."idempotency_key")
      || "ledger_canonical_field"(e."actor")
      || "ledger_canonical_field"(e."reason")
      || "ledger_canonical_field"(to_char(e."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
      || "ledger_canonical_field"(NULL)
      || "ledger_canonical_field"(e."balance_after"::text);
    UPDATE "ledger_entry" SET "chain_seq" = seq, "prev_hash" = prev,
      "hash" = encode(sha256(convert_to(prev || E'\n' || canonical, 'UTF8')), 'hex')
      WHERE "id" = e."id"
      RETURNING "hash" INTO prev;
  END LOOP;
END;
$$;

CREATE TABLE "ledger_chain_head" (
    "community_id" UUID NOT NULL REFERENCES "community"("id"),
    "chain_seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    CONSTRAINT "ledger_chain_head_pkey" PRIMARY KEY ("community_id")
);
-- Every community has a head (made with the community from now on): writers lock it.
INSERT INTO "ledger_chain_head" ("community_id", "chain_seq", "hash")
    SELECT c."id", COALESCE(last."chain_seq", 0), COALESCE(last."hash", repeat('0', 64))
    FROM "community" c
    LEFT JOIN LATERAL (
        SELECT "chain_seq", "hash" FROM "ledger_entry" e WHERE e."community_id" = c."id" ORDER BY "chain_seq" DESC LIMIT 1
    ) last ON true;

ALTER TABLE "ledger_entry" DROP CONSTRAINT "ledger_entry_balance_after_non_negative";
DROP INDEX "ledger_entry_resident_id_id_idx";
ALTER TABLE "ledger_entry"
    DROP COLUMN "resident_id",
    DROP COLUMN "balance_after",
    ALTER COLUMN "kind" DROP DEFAULT,
    ALTER COLUMN "debit_account" SET NOT NULL,
    ALTER COLUMN "credit_account" SET NOT NULL,
    ALTER COLUMN "chain_seq" SET NOT NULL,
    ALTER COLUMN "prev_hash" SET NOT NULL,
    ALTER COLUMN "hash" SET NOT NULL,
    ADD CONSTRAINT "ledger_entry_amount_positive" CHECK ("amount" > 0),
    ADD CONSTRAINT "ledger_entry_two_accounts" CHECK ("debit_account" <> "credit_account"),
    ADD CONSTRAINT "ledger_entry_balances_non_negative" CHECK ("debit_balance_after" >= 0 AND "credit_balance_after" >= 0),
    ADD CONSTRAINT "ledger_entry_closes_a_pending" CHECK (("kind" IN ('settle', 'void')) = ("pending_entry_id" IS NOT NULL));
CREATE UNIQUE INDEX "ledger_entry_community_id_chain_seq_key" ON "ledger_entry"("community_id", "chain_seq");
-- A pending entry is settled or voided once; an entry is reversed once. Partial:
-- device credits (most entries) have neither, nor a resident on the debit side, and
-- every index entry costs the ingest hot path.
CREATE UNIQUE INDEX "ledger_entry_pending_entry_id_key" ON "ledger_entry"("pending_entry_id") WHERE "pending_entry_id" IS NOT NULL;
CREATE UNIQUE INDEX "ledger_entry_reverses_entry_id_key" ON "ledger_entry"("reverses_entry_id") WHERE "reverses_entry_id" IS NOT NULL;
CREATE INDEX "ledger_entry_debit_resident_id_idx" ON "ledger_entry"("debit_resident_id", "id") WHERE "debit_resident_id" IS NOT NULL;
CREATE INDEX "ledger_entry_credit_resident_id_idx" ON "ledger_entry"("credit_resident_id", "id");
CREATE INDEX "ledger_entry_community_id_created_at_idx" ON "ledger_entry"("community_id", "created_at");
CREATE TRIGGER "ledger_entry_append_only" BEFORE UPDATE OR DELETE ON "ledger_entry"
    FOR EACH ROW EXECUTE FUNCTION "ledger_entry_refuse_change"();

-- A resident is never deleted: the ledger names residents without foreign keys.
CREATE FUNCTION "resident_refuse_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'residents are never deleted: their ledger entries name them';
END;
$$;
CREATE TRIGGER "resident_never_deleted" BEFORE DELETE ON "resident"
    FOR EACH ROW EXECUTE FUNCTION "resident_refuse_delete"();

-- Staff, their tokens, the audit log, idempotent API requests -------------------
CREATE TYPE "staff_role" AS ENUM ('admin', 'credit_admin', 'credit_collector', 'clerk', 'operator', 'auditor');
CREATE TABLE "staff_user" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "role" "staff_role" NOT NULL,
    -- null: every community (district staff); otherwise only this one.
    "community_id" UUID REFERENCES "community"("id"),
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "staff_user_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "staff_user_name_key" ON "staff_user"("name");

CREATE TABLE "staff_token" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL REFERENCES "staff_user"("id"),
    "label" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "staff_token_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "staff_token_token_hash_key" ON "staff_token"("token_hash");
CREATE INDEX "staff_token_user_id_idx" ON "staff_token"("user_id");

CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT,
    "before" JSONB,
    "after" JSONB,
    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");
CREATE INDEX "audit_log_entity_idx" ON "audit_log"("entity_type", "entity_id", "id");
CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "audit_log"
    FOR EACH ROW EXECUTE FUNCTION "ledger_entry_refuse_change"();

-- A retried API call with the same Idempotency-Key gets the first answer.
CREATE TABLE "idempotent_request" (
    "actor" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    -- SHA-256 of the body: the same key with another body is refused.
    "body_hash" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "idempotent_request_pkey" PRIMARY KEY ("actor", "key")
);

-- The points supermarket ----------------------------------------------------------
CREATE TABLE "catalogue_item" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL REFERENCES "community"("id"),
    "name" TEXT NOT NULL,
    "price_points" INTEGER NOT NULL,
    "stock" INTEGER NOT NULL DEFAULT 0,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "catalogue_item_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "catalogue_item_price_positive" CHECK ("price_points" > 0),
    CONSTRAINT "catalogue_item_stock_non_negative" CHECK ("stock" >= 0)
);
CREATE UNIQUE INDEX "catalogue_item_community_id_name_key" ON "catalogue_item"("community_id", "name");

CREATE TYPE "redemption_status" AS ENUM ('completed', 'cancelled');
CREATE TABLE "redemption_order" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL REFERENCES "community"("id"),
    "resident_id" UUID NOT NULL REFERENCES "resident"("id"),
    "total_points" INTEGER NOT NULL,
    "status" "redemption_status" NOT NULL DEFAULT 'completed',
    "ledger_entry_id" BIGINT NOT NULL REFERENCES "ledger_entry"("id"),
    "actor" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cancelled_at" TIMESTAMPTZ(3),
    "cancelled_by" TEXT,
    CONSTRAINT "redemption_order_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "redemption_order_total_positive" CHECK ("total_points" > 0)
);
CREATE INDEX "redemption_order_resident_id_idx" ON "redemption_order"("resident_id", "created_at");
CREATE INDEX "redemption_order_community_id_idx" ON "redemption_order"("community_id", "created_at");

CREATE TABLE "redemption_line" (
    "order_id" UUID NOT NULL REFERENCES "redemption_order"("id"),
    "line_no" INTEGER NOT NULL,
    "item_id" UUID NOT NULL REFERENCES "catalogue_item"("id"),
    "item_name" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_points" INTEGER NOT NULL,
    CONSTRAINT "redemption_line_pkey" PRIMARY KEY ("order_id", "line_no"),
    CONSTRAINT "redemption_line_quantity_positive" CHECK ("quantity" > 0)
);
