-- Device health (issue #6): the last known state of each device, flushed from memory in
-- batches, with its operations settings (site, heartbeat, alert rule overrides).
CREATE TABLE "device_health" (
    "device_id" TEXT NOT NULL,
    "site" TEXT,
    "heartbeat_seconds" INTEGER,
    "alert_rules" JSONB NOT NULL DEFAULT '{}',
    "state" TEXT NOT NULL DEFAULT 'unknown',
    "state_changed_at" TIMESTAMPTZ(3),
    "last_seen_at" TIMESTAMPTZ(3),
    "last_telemetry" JSONB,
    "last_telemetry_at" TIMESTAMPTZ(3),
    "stats" JSONB NOT NULL DEFAULT '{}',
    "flushed_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_health_pkey" PRIMARY KEY ("device_id"),
    CONSTRAINT "device_health_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "device_health_state" CHECK ("state" IN ('online', 'offline', 'unknown')),
    CONSTRAINT "device_health_heartbeat" CHECK ("heartbeat_seconds" IS NULL OR "heartbeat_seconds" BETWEEN 1 AND 86400)
);
CREATE INDEX "device_health_site_idx" ON "device_health"("site");

-- Every online/offline change of a device, with why (will, timeout, clean-disconnect, credentials-revoked, ...).
CREATE TABLE "device_status_change" (
    "id" BIGSERIAL NOT NULL,
    "device_id" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "device_status_change_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "device_status_change_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "device_status_change_state" CHECK ("state" IN ('online', 'offline'))
);
CREATE INDEX "device_status_change_device_id_at_idx" ON "device_status_change"("device_id", "at");

-- Telemetry downsampled to one row per device and time bucket (averages), pruned after the retention.
CREATE TABLE "device_telemetry_sample" (
    "device_id" TEXT NOT NULL,
    "bucket_at" TIMESTAMPTZ(3) NOT NULL,
    "readings" INTEGER NOT NULL,
    "fill_percent" DOUBLE PRECISION,
    "power_volts" DOUBLE PRECISION,
    "battery_percent" DOUBLE PRECISION,
    "temperature_c" DOUBLE PRECISION,
    "rssi_dbm" DOUBLE PRECISION,
    "outbox_depth" DOUBLE PRECISION,

    CONSTRAINT "device_telemetry_sample_pkey" PRIMARY KEY ("device_id", "bucket_at")
);
CREATE INDEX "device_telemetry_sample_bucket_at_idx" ON "device_telemetry_sample"("bucket_at");

-- An alert about a device (or, for authentication failures, a client id or address):
-- open -> acknowledged -> resolved, with who and when. One unresolved alert per subject and cause.
CREATE TABLE "device_alert" (
    "id" BIGSERIAL NOT NULL,
    "subject" TEXT NOT NULL,
    "device_id" TEXT,
    "cause" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "value" DOUBLE PRECISION,
    "message" TEXT NOT NULL,
    "opened_at" TIMESTAMPTZ(3) NOT NULL,
    "acknowledged_at" TIMESTAMPTZ(3),
    "acknowledged_by" TEXT,
    "resolved_at" TIMESTAMPTZ(3),
    "resolved_by" TEXT,

    CONSTRAINT "device_alert_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "device_alert_severity" CHECK ("severity" IN ('warning', 'critical')),
    CONSTRAINT "device_alert_status" CHECK ("status" IN ('open', 'acknowledged', 'resolved'))
);
CREATE UNIQUE INDEX "device_alert_unresolved_key" ON "device_alert"("subject", "cause") WHERE "status" <> 'resolved';
CREATE INDEX "device_alert_status_opened_at_idx" ON "device_alert"("status", "opened_at");
CREATE INDEX "device_alert_device_id_opened_at_idx" ON "device_alert"("device_id", "opened_at");

-- Where alert notifications are posted (besides WEBHOOK_URLS from the environment).
CREATE TABLE "webhook_endpoint" (
    "id" BIGSERIAL NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT,
    "description" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoint_pkey" PRIMARY KEY ("id")
);
