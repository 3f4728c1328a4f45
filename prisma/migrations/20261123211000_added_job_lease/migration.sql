-- Background jobs that must run once across replicas (points expiry, ...) take
-- a lease on their row before each run (issue #8). Times come from the
-- database's clock, so replicas whose clocks disagree still agree on the lease.
CREATE TABLE "job_lease" (
    "name" TEXT NOT NULL,
    -- The replica that holds (or last held) the lease.
    "holder" TEXT NOT NULL,
    -- The lease is free from this time on: a holder that dies loses it then.
    "lease_until" TIMESTAMPTZ(3) NOT NULL,
    -- The next run may start from this time on (the last run's start + its period).
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "last_started_at" TIMESTAMPTZ(3),
    "last_finished_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "runs" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "job_lease_pkey" PRIMARY KEY ("name")
);
