-- Battery bins (issue #4): versioned points rules per community, and the
-- residents' deposit tallies per local day and month that the caps are judged on.

-- A rules version applies to events that occur from effective_from on; an event
-- keeps the version it was judged by (device_event.rule_version). Version 0 is
-- implicit: the community's deposit_points_per_unit, no caps, no checks.
CREATE TABLE "points_rule" (
    "community_id" UUID NOT NULL REFERENCES "community"("id"),
    "version" INTEGER NOT NULL,
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "rules" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "points_rule_pkey" PRIMARY KEY ("community_id", "version"),
    CONSTRAINT "points_rule_version_positive" CHECK ("version" > 0)
);
CREATE TRIGGER "points_rule_append_only" BEFORE UPDATE OR DELETE ON "points_rule"
    FOR EACH ROW EXECUTE FUNCTION "ledger_entry_refuse_change"();

-- What a resident deposited in a local day ('day', the date) or month ('month', its
-- first day): written by the ingest hot path with the balances, under the resident's lock.
CREATE TABLE "deposit_tally" (
    "resident_id" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "period_start" DATE NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "batteries" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "deposit_tally_pkey" PRIMARY KEY ("resident_id", "period", "period_start"),
    CONSTRAINT "deposit_tally_period" CHECK ("period" IN ('day', 'month'))
);

ALTER TABLE "device_event"
    ADD COLUMN "rule_version" INTEGER,
    -- e.g. {weight-missing}: judged by count alone because the scale sent no weight.
    ADD COLUMN "flags" TEXT[];
