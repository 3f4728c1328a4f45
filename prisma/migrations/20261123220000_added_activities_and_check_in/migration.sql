-- Activities and NFC check-in terminals (issue #5): sites, terminals assigned to
-- them, the category tree, activities (one row per occurrence; a weekly
-- recurrence generates its occurrences), attendance and its volunteer minutes.

-- A place where activities happen: a community centre, a square, a school.
CREATE TABLE "activity_site" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "activity_site_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "activity_site_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "activity_site_community_id_name_key" ON "activity_site"("community_id", "name");

-- Which site a check-in terminal stands at (at most one); a terminal without a row has no open activity.
CREATE TABLE "terminal_site" (
    "device_id" TEXT NOT NULL,
    "site_id" UUID NOT NULL,
    "assigned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "terminal_site_pkey" PRIMARY KEY ("device_id"),
    CONSTRAINT "terminal_site_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "terminal_site_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "activity_site"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "terminal_site_site_id_idx" ON "terminal_site"("site_id");

-- The community's category tree: categories (no parent) and their sub-items.
CREATE TABLE "activity_category" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "parent_code" TEXT,
    "name_zh" TEXT NOT NULL,
    "name_en" TEXT NOT NULL,
    "sort" INTEGER NOT NULL DEFAULT 0,
    "is_active" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "activity_category_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "activity_category_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "activity_category_community_id_code_key" ON "activity_category"("community_id", "code");

-- A weekly rule ("every Saturday 9:00-11:00") and the activity template its occurrences copy.
CREATE TABLE "activity_recurrence" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "rule" JSONB NOT NULL,
    "template" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "activity_recurrence_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "activity_recurrence_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- One occurrence of an activity.
CREATE TABLE "activity" (
    "id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "category_code" TEXT NOT NULL,
    "recurrence_id" UUID,
    "title" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "opens_before_minutes" INTEGER NOT NULL DEFAULT 30,
    "closes_after_minutes" INTEGER NOT NULL DEFAULT 15,
    "check_out_grace_minutes" INTEGER NOT NULL DEFAULT 30,
    "capacity" INTEGER,
    "policy" JSONB NOT NULL,
    "requires_review" BOOLEAN NOT NULL DEFAULT false,
    "auto_close" TEXT NOT NULL DEFAULT 'credit-to-end',
    "debounce_seconds" INTEGER NOT NULL DEFAULT 60,
    "is_cancelled" BOOLEAN NOT NULL DEFAULT false,
    -- When the auto-close job last closed attendance left open at the end.
    "closed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "activity_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "activity_community_id_fkey" FOREIGN KEY ("community_id") REFERENCES "community"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "activity_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "activity_site"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "activity_recurrence_id_fkey" FOREIGN KEY ("recurrence_id") REFERENCES "activity_recurrence"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "activity_ends_after_start" CHECK ("ends_at" > "starts_at"),
    CONSTRAINT "activity_minutes" CHECK ("opens_before_minutes" >= 0 AND "closes_after_minutes" >= 0 AND "check_out_grace_minutes" >= 0 AND "debounce_seconds" >= 0),
    CONSTRAINT "activity_capacity" CHECK ("capacity" IS NULL OR "capacity" > 0),
    CONSTRAINT "activity_auto_close" CHECK ("auto_close" IN ('credit-to-end', 'no-hours'))
);
CREATE INDEX "activity_site_id_starts_at_idx" ON "activity"("site_id", "starts_at");
CREATE INDEX "activity_community_id_starts_at_idx" ON "activity"("community_id", "starts_at");
CREATE INDEX "activity_recurrence_id_idx" ON "activity"("recurrence_id");

-- One row per resident per activity occurrence. points: due in total (posted or
-- pending); minutes: presence counted for points (volunteer minutes, hours mode).
CREATE TABLE "attendance" (
    "id" UUID NOT NULL,
    "activity_id" UUID NOT NULL,
    "resident_id" UUID NOT NULL,
    "community_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "first_tap_at" TIMESTAMPTZ(3) NOT NULL,
    "last_tap_at" TIMESTAMPTZ(3) NOT NULL,
    "checked_out_at" TIMESTAMPTZ(3),
    "minutes" INTEGER NOT NULL DEFAULT 0,
    "points" INTEGER NOT NULL DEFAULT 0,
    "taps" INTEGER NOT NULL DEFAULT 0,
    "requires_review" BOOLEAN NOT NULL DEFAULT false,
    -- Every counted tap or manual entry: {at, deviceId, eventId} or {at, actor, reason}.
    "sources" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attendance_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "attendance_activity_id_fkey" FOREIGN KEY ("activity_id") REFERENCES "activity"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "attendance_resident_id_fkey" FOREIGN KEY ("resident_id") REFERENCES "resident"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "attendance_status" CHECK ("status" IN ('in', 'out', 'closed', 'stray')),
    CONSTRAINT "attendance_span" CHECK ("last_tap_at" >= "first_tap_at"),
    CONSTRAINT "attendance_amounts" CHECK ("minutes" >= 0 AND "points" >= 0)
);
CREATE UNIQUE INDEX "attendance_activity_id_resident_id_key" ON "attendance"("activity_id", "resident_id");
CREATE INDEX "attendance_resident_id_status_idx" ON "attendance"("resident_id", "status");
-- The auto-close job's queue: attendance still open (a late tap can open one after its activity ended).
CREATE INDEX "attendance_open_idx" ON "attendance"("activity_id") WHERE "status" = 'in';
