-- The bin's life (issue #4): fill thresholds, collections, faults and fill alerts.

-- Per-bin settings; a bin without a row uses the defaults (warn 80 %, full 95 %, tolerance 10 %).
CREATE TABLE "bin_settings" (
    "device_id" TEXT NOT NULL,
    "fill_warn_percent" INTEGER NOT NULL DEFAULT 80,
    "fill_full_percent" INTEGER NOT NULL DEFAULT 95,
    "weight_tolerance_percent" INTEGER NOT NULL DEFAULT 10,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT,

    CONSTRAINT "bin_settings_pkey" PRIMARY KEY ("device_id"),
    CONSTRAINT "bin_settings_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "bin_settings_warn_range" CHECK ("fill_warn_percent" BETWEEN 1 AND 100),
    CONSTRAINT "bin_settings_full_range" CHECK ("fill_full_percent" BETWEEN 1 AND 100),
    CONSTRAINT "bin_settings_warn_below_full" CHECK ("fill_warn_percent" < "fill_full_percent"),
    CONSTRAINT "bin_settings_tolerance_range" CHECK ("weight_tolerance_percent" BETWEEN 0 AND 100)
);

-- Staff emptied a bin: recorded through the API, or by the bin's `collection` event.
CREATE TABLE "bin_collection" (
    "id" BIGSERIAL NOT NULL,
    "device_id" TEXT NOT NULL,
    "collected_at" TIMESTAMPTZ(3) NOT NULL,
    "weight_grams" DOUBLE PRECISION NOT NULL,
    "source" TEXT NOT NULL,
    "device_event_id" BIGINT,
    "actor" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bin_collection_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "bin_collection_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "bin_collection_device_event_id_fkey" FOREIGN KEY ("device_event_id") REFERENCES "device_event"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "bin_collection_source" CHECK ("source" IN ('api', 'event')),
    CONSTRAINT "bin_collection_event_has_event" CHECK (("source" = 'event') = ("device_event_id" IS NOT NULL)),
    CONSTRAINT "bin_collection_weight" CHECK ("weight_grams" >= 0)
);
CREATE UNIQUE INDEX "bin_collection_device_event_id_key" ON "bin_collection"("device_event_id");
CREATE INDEX "bin_collection_device_id_collected_at_idx" ON "bin_collection"("device_id", "collected_at");

-- A fault code a device reports in its telemetry, from when it appeared until it disappeared.
CREATE TABLE "device_fault" (
    "id" BIGSERIAL NOT NULL,
    "device_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "cleared_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_fault_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "device_fault_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
-- One open row per device and code.
CREATE UNIQUE INDEX "device_fault_open_key" ON "device_fault"("device_id", "code") WHERE "cleared_at" IS NULL;
CREATE INDEX "device_fault_device_id_started_at_idx" ON "device_fault"("device_id", "started_at");

-- A bin's fill crossed its warn or full threshold; resolved by a collection or when the fill drops 10 points below.
CREATE TABLE "bin_alert" (
    "id" BIGSERIAL NOT NULL,
    "device_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "opened_at" TIMESTAMPTZ(3) NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "bin_alert_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "bin_alert_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "bin_alert_kind" CHECK ("kind" IN ('fill-warn', 'fill-full'))
);
-- One open alert per device and kind.
CREATE UNIQUE INDEX "bin_alert_open_key" ON "bin_alert"("device_id", "kind") WHERE "resolved_at" IS NULL;
CREATE INDEX "bin_alert_device_id_opened_at_idx" ON "bin_alert"("device_id", "opened_at");

