import { Body, Controller, Get, Inject, Param, Patch, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { DomainError, alertRulesFor } from '../../../../libs/domain/src';
import { type FleetDeviceRecord, HealthRepository, type TelemetrySampleRecord } from '../../../../libs/persistence/src';
import { AlertEngine } from '../health/alert-engine';
import { type DeviceHealthView, FleetHealth } from '../health/fleet-health';
import { AdminAuthGuard } from './admin-auth.guard';
import { assertCommunityAccess } from './community-access';
import { openApiSchema } from './openapi';
import { parseBody } from './parse-body';
import { type Actor, CurrentActor, Roles } from './roles';

const fleetQuery = z.object({
  communityId: z.uuid('communityId must be a community id').optional(),
  site: z.string().trim().min(1).max(100).optional(),
  kind: z.enum(['bin', 'terminal', 'counter']).optional(),
  state: z.enum(['online', 'offline', 'unknown']).optional(),
});

const detailQuery = z.object({
  hours: z.coerce
    .number()
    .min(1)
    .max(24 * 90)
    .default(24),
});

const alertRulesPatch = z
  .object({
    offlineAfterSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400),
    lowBatteryPercent: z.number().min(0).max(100).nullable(),
    lowPowerVolts: z.number().min(0).max(100).nullable(),
    outboxBacklogEvents: z.number().int().min(1).max(1_000_000),
    clockSkewSeconds: z.number().int().min(1).max(86_400),
    faultAlerts: z.boolean(),
    ignoredFaultCodes: z.array(z.string().min(1).max(32)).max(50),
    authFailureCount: z.number().int().min(1).max(10_000),
    authFailureWindowSeconds: z.number().int().min(1).max(86_400),
  })
  .partial()
  .strict();

export const fleetSettingsBody = z
  .object({
    site: z.string().trim().min(1).max(100).nullable(),
    heartbeatSeconds: z.number().int().min(1).max(86_400).nullable(),
    alertRules: alertRulesPatch,
  })
  .partial()
  .strict();

/** The registry row, its operations settings and its live health, as the ops page shows a device. */
function present(record: FleetDeviceRecord, live: DeviceHealthView | null, openAlerts: number) {
  return {
    id: record.id,
    kind: record.kind,
    communityId: record.communityId,
    label: record.label,
    isActive: record.isActive,
    site: record.site,
    state: live?.state ?? record.state,
    stateChangedAt: live?.stateChangedAt ?? record.stateChangedAt?.toISOString() ?? null,
    lastSeenAt: live?.lastSeenAt ?? record.lastSeenAt?.toISOString() ?? null,
    telemetry: live?.telemetry ?? record.lastTelemetry,
    telemetryAt: live?.telemetryAt ?? record.lastTelemetryAt?.toISOString() ?? null,
    clockSkewSeconds: live?.clockSkewSeconds ?? (record.stats['clockSkewSeconds'] as number | null | undefined) ?? null,
    eventsPerMinute: live?.eventsPerMinute ?? 0,
    messagesPerMinute: live?.messagesPerMinute ?? 0,
    lastEvent: live?.lastEvent ?? record.stats['lastEvent'] ?? null,
    openAlerts,
  };
}

/**
 * The fleet at a glance and one device in detail (issue #6): live health from
 * memory over the registry and the last flush; status history and telemetry
 * charts from the database; a server-sent-events stream for the ops page.
 */
@ApiTags('fleet')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/fleet')
export class FleetController {
  constructor(
    @Inject(HealthRepository) private readonly store: HealthRepository,
    @Inject(FleetHealth) private readonly health: FleetHealth,
    @Inject(AlertEngine) private readonly alerts: AlertEngine,
  ) {}

  @Get()
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({
    summary: 'Every device with its status, last seen, latest telemetry and open alerts; filter by community, site, kind, state',
  })
  async fleet(@Query() query: unknown, @CurrentActor() actor: Actor) {
    const filter = parseBody(fleetQuery, query);
    if (filter.communityId) assertCommunityAccess(actor, filter.communityId);
    const communityId = actor.communityId ?? filter.communityId;
    const [records, open] = await Promise.all([
      this.store.fleet({ communityId, site: filter.site, kind: filter.kind }),
      this.store.alerts({ status: 'unresolved', communityId, limit: 10_000 }),
    ]);
    const alertsBy = new Map<string, number>();
    for (const a of open) if (a.deviceId) alertsBy.set(a.deviceId, (alertsBy.get(a.deviceId) ?? 0) + 1);
    const devices = records
      .map((r) => present(r, this.health.view(r.id), alertsBy.get(r.id) ?? 0))
      .filter((d) => !filter.state || d.state === filter.state);
    const sites = [...new Set(records.map((r) => r.site).filter((s): s is string => s !== null))].sort();
    return { devices, sites, counts: countStates(devices) };
  }

  @Get('stream')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({
    summary:
      'Server-sent events: `device` (health changed, at most twice a second per device) and `alert` (opened, acknowledged, resolved)',
  })
  stream(@Req() req: Request, @Res() res: Response, @CurrentActor() actor: Actor) {
    res
      .status(200)
      .set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(': connected\n\n');
    // Community staff see their own community's devices only.
    const maySee = (deviceId: string | null) =>
      actor.communityId === null || (deviceId !== null && this.health.metaOf(deviceId)?.communityId === actor.communityId);
    const pending = new Map<string, { view: DeviceHealthView; change: unknown }>();
    const offHealth = this.health.subscribe((view, change) => {
      if (!maySee(view.deviceId)) return;
      const before = pending.get(view.deviceId);
      pending.set(view.deviceId, { view, change: change ?? before?.change ?? null });
    });
    const offAlerts = this.alerts.subscribe((kind, alert) => {
      if (maySee(alert.deviceId)) res.write(`event: alert\ndata: ${JSON.stringify({ kind, alert })}\n\n`);
    });
    const flush = setInterval(() => {
      for (const { view, change } of pending.values()) res.write(`event: device\ndata: ${JSON.stringify({ ...view, change })}\n\n`);
      pending.clear();
    }, 500);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(flush);
      clearInterval(keepAlive);
      offHealth();
      offAlerts();
    });
  }

  @Get(':deviceId')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({
    summary: 'One device: live health, alert rules in force, status history with reasons, telemetry over the last hours, alerts',
  })
  @ApiQuery({ name: 'hours', required: false, schema: { type: 'number', default: 24 } })
  async device(@Param('deviceId') deviceId: string, @Query() query: unknown, @CurrentActor() actor: Actor) {
    const { hours } = parseBody(detailQuery, query);
    const record = await this.record(deviceId, actor);
    const since = new Date(Date.now() - hours * 3_600_000);
    const [history, samples, alerts] = await Promise.all([
      this.store.statusHistory(deviceId, 200),
      this.store.telemetrySamples(deviceId, since),
      this.store.alerts({ deviceId, limit: 100 }),
    ]);
    const open = alerts.filter((a) => a.status !== 'resolved').length;
    return {
      device: present(record, this.health.view(deviceId), open),
      heartbeatSeconds: this.health.heartbeatOf(this.health.metaOf(deviceId)),
      settings: { site: record.site, heartbeatSeconds: record.heartbeatSeconds, alertRules: record.alertRules },
      alertRules: alertRulesFor(record.kind, record.alertRules),
      statusHistory: [...this.health.unflushedChanges(deviceId), ...history],
      telemetry: mergeSamples(samples, this.health.unflushedSamples(deviceId), since),
      alerts,
    };
  }

  @Patch(':deviceId/settings')
  @Roles('admin', 'operator')
  @ApiOperation({ summary: 'Site, heartbeat (seconds) and alert rule overrides of one device; null clears site or heartbeat' })
  @ApiBody({ schema: openApiSchema(fleetSettingsBody) })
  async updateSettings(@Param('deviceId') deviceId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const patch = parseBody(fleetSettingsBody, body);
    const current = await this.record(deviceId, actor);
    const alertRules = patch.alertRules ? { ...current.alertRules, ...patch.alertRules } : undefined;
    const updated = await this.store.updateSettings(deviceId, { site: patch.site, heartbeatSeconds: patch.heartbeatSeconds, alertRules });
    await this.health.settingsChanged(deviceId);
    return { site: updated.site, heartbeatSeconds: updated.heartbeatSeconds, alertRules: updated.alertRules };
  }

  private async record(deviceId: string, actor: Actor): Promise<FleetDeviceRecord> {
    const record = await this.store.fleetDevice(deviceId);
    if (!record) throw new DomainError('not-found', `没有设备 ${deviceId} / no device ${deviceId}`);
    assertCommunityAccess(actor, record.communityId);
    return record;
  }
}

/** Stored buckets with the ones still in memory (newer figures for the same bucket win), oldest first. */
function mergeSamples(stored: TelemetrySampleRecord[], pending: TelemetrySampleRecord[], since: Date): TelemetrySampleRecord[] {
  const byTime = new Map(stored.map((s) => [s.bucketAt.getTime(), s]));
  for (const p of pending) if (p.bucketAt >= since) byTime.set(p.bucketAt.getTime(), p);
  return [...byTime.values()].sort((a, b) => a.bucketAt.getTime() - b.bucketAt.getTime());
}

function countStates(devices: { state: string }[]) {
  const counts = { online: 0, offline: 0, unknown: 0 };
  for (const d of devices) counts[d.state as keyof typeof counts]++;
  return counts;
}
