-- The points supermarket (issue #3): lookups the clerk's screen and redemptions make.

-- "Last tap at counter X": the newest tap of a device, one index probe.
CREATE INDEX "device_event_tap_device_id_id_idx" ON "device_event"("device_id", "id") WHERE "type" = 'tap';

-- One order per ledger entry: a retried redemption (same idempotency key) finds its order by its entry.
CREATE UNIQUE INDEX "redemption_order_ledger_entry_id_key" ON "redemption_order"("ledger_entry_id");
