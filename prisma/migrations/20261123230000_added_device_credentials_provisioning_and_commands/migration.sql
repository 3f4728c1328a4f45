-- Device fleet (issue #6, part A): credential rotation and retirement, provisioning keys, commands.

-- A retired device keeps its row (its events and ledger entries point at it) and its id, so the id
-- cannot be registered again by mistake; it never logs in again.
ALTER TABLE "device" ADD COLUMN "retired_at" TIMESTAMPTZ(3);
ALTER TABLE "device" ADD COLUMN "credentials_rotated_at" TIMESTAMPTZ(3);
-- How the device got its credentials: 'api' (staff registered it, one by one or from a CSV) or the provisioning key.
ALTER TABLE "device" ADD COLUMN "provisioning_key_id" UUID;
ALTER TABLE "device" ADD CONSTRAINT "device_retired_inactive" CHECK ("retired_at" IS NULL OR NOT "is_active");

-- A per-community key a batch of factory-fresh devices uses to request its own credentials over MQTT.
CREATE TABLE "provisioning_key" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    -- The public half, sent by the device next to the secret; unique across communities.
    "key" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "label" TEXT,
    -- Which device kinds it may create (bin, terminal, counter).
    "kinds" TEXT[] NOT NULL,
    "max_devices" INTEGER NOT NULL,
    "used_count" INTEGER NOT NULL DEFAULT 0,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,

    CONSTRAINT "provisioning_key_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "provisioning_key_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "provisioning_key_max_devices" CHECK ("max_devices" BETWEEN 1 AND 10000),
    CONSTRAINT "provisioning_key_used_count" CHECK ("used_count" BETWEEN 0 AND "max_devices")
);
CREATE UNIQUE INDEX "provisioning_key_key_key" ON "provisioning_key"("key");
CREATE INDEX "provisioning_key_community_id_idx" ON "provisioning_key"("community_id");

ALTER TABLE "device" ADD CONSTRAINT "device_provisioning_key_id_fkey" FOREIGN KEY ("provisioning_key_id") REFERENCES "provisioning_key"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A command to a device: queued until the device is online, sent once, then a result (or expired unsent).
CREATE TABLE "device_command" (
    "id" UUID NOT NULL,
    "device_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "result_detail" TEXT,

    CONSTRAINT "device_command_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "device_command_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "device_command_status" CHECK ("status" IN ('queued', 'sent', 'succeeded', 'failed', 'expired')),
    CONSTRAINT "device_command_sent" CHECK (("status" IN ('queued', 'expired')) OR "sent_at" IS NOT NULL)
);
CREATE INDEX "device_command_device_id_created_at_idx" ON "device_command"("device_id", "created_at");
-- The queue: what waits for a device to come online.
CREATE INDEX "device_command_queued_idx" ON "device_command"("device_id", "expires_at") WHERE "status" = 'queued';
