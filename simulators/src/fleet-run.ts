import { randomBytes } from 'node:crypto';
import { type AdminClient } from './admin-client';
import { arrivalWeight } from './arrival-curve';
import { type LaunchedGateway } from './gateway-launcher';
import { type Population, type SimResident, newCardUid } from './population';
import { Rng } from './rng';
import { type RunTally } from './run-tally';
import { type SimulatorOptions } from './options';
import { VirtualDevice } from './virtual-device';

/**
 * Opens an activity for the run at a site of its own, with every check-in
 * terminal there (issue #5's API): attendance points, the check-in window
 * open for the whole run, so a terminal's taps mean check-ins (and repeats
 * `already-checked-in`) rather than `no-open-activity`. Returns its id, or null
 * without terminals.
 */
export type CreateActivitiesHook = (api: AdminClient, population: Population, durationSeconds: number) => Promise<string | null>;
export const createActivitiesHook: CreateActivitiesHook = async (api, population, durationSeconds) => {
  const terminals = population.devices.filter((d) => d.kind === 'terminal');
  if (terminals.length === 0) return null;
  const community = population.communityId;
  await api.call('POST', `/communities/${community}/activity-categories/defaults`);
  // A reused community has its site from an earlier run (site names are unique per community).
  const name = '模拟活动中心 / simulated centre';
  const { sites } = await api.call<{ sites: { id: string; name: string }[] }>('GET', `/communities/${community}/sites`);
  const site = sites.find((x) => x.name === name) ?? (await api.call<{ id: string }>('POST', `/communities/${community}/sites`, { name }));
  for (const t of terminals) await api.call('PUT', `/sites/${site.id}/terminals/${t.id}`);
  const minutes = Math.min(1440, Math.ceil(durationSeconds / 60) + 10);
  const startsAt = new Date();
  const activity = await api.call<{ id: string }>('POST', '/activities', {
    communityId: community,
    siteId: site.id,
    categoryCode: 'C05-01',
    title: `模拟活动 / simulated activity ${startsAt.toISOString().slice(0, 16)}`,
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + minutes * 60_000).toISOString(),
    closesAfterMinutes: minutes,
    policy: { kind: 'attendance', points: 2 },
  });
  return activity.id;
};

export interface FleetContext {
  options: SimulatorOptions;
  api: AdminClient;
  population: Population;
  tally: RunTally;
  gateway: LaunchedGateway | null;
  mqttUrl: string;
  log: (line: string) => void;
}

interface ResidentState {
  resident: SimResident;
  /** The card in the resident's pocket; after a loss, a new one. */
  cardUid: string;
  /** A lost (blocked) card the resident may still try once. */
  lostCardUid: string | null;
}

/** A timeline of what happens when, in seconds from the start, for the report and the log. */
interface Happening {
  at: number;
  what: string;
  run: () => Promise<void>;
}

export async function runFleet(ctx: FleetContext): Promise<VirtualDevice[]> {
  const { options, population, tally, log } = ctx;
  const rng = new Rng(options.seed);
  const runTag = randomBytes(4).toString('hex');
  const devices: VirtualDevice[] = [];
  for (const device of population.devices) {
    const deviceRng = rng.fork(device.id);
    const skew = options.clockSkew > 0 ? Math.round((deviceRng.next() * 2 - 1) * options.clockSkew * 1000) : 0;
    const vd = await VirtualDevice.create(
      device,
      deviceRng,
      {
        mqttUrl: ctx.mqttUrl,
        mqttVersion: options.mqttVersion,
        ...(options.outboxDir ? { outboxDir: options.outboxDir } : {}),
        resend: { firstMs: options.resendFirstMs, maxMs: options.resendMaxMs },
        flaky: options.flaky,
        clockSkewMs: skew,
        telemetryIntervalMs: 60_000,
      },
      `${runTag}-${devices.length}`,
    );
    vd.onAck((received) => tally.noteAck(device.id, received));
    devices.push(vd);
  }
  await Promise.all(devices.map((d) => d.client.start()));
  const activityId = await createActivitiesHook(ctx.api, population, options.duration);
  if (activityId) log(`activity ${activityId} open for the terminals`);
  log(`${devices.length} devices online`);

  const residents: ResidentState[] = population.residents.map((r) => ({ resident: r, cardUid: r.cardUid, lostCardUid: null }));
  const byKind = (k: string) => devices.filter((d) => d.kind === k);
  const bins = byKind('bin');
  const readers = [...byKind('terminal'), ...byKind('counter')];
  const behaviour = rng.fork('behaviour');
  const happenings = planHappenings(ctx, devices, residents, bins, rng.fork('faults'));

  const daySeconds = options.daySeconds ?? options.duration;
  const started = Date.now();
  const tickMs = 100;
  let nextHappening = 0;
  const pendingWork: Promise<unknown>[] = [];
  for (;;) {
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed >= options.duration) break;
    while (nextHappening < happenings.length && happenings[nextHappening]!.at <= elapsed) {
      const h = happenings[nextHappening++]!;
      log(`[${elapsed.toFixed(1)} s] ${h.what}`);
      pendingWork.push(h.run().catch((err: Error) => log(`  ${h.what} failed: ${err.message}`)));
    }
    const hour = options.startHour + (elapsed / daySeconds) * 24;
    const arrivals = poisson(behaviour, (options.rate * arrivalWeight(hour) * tickMs) / 1000);
    for (let i = 0; i < arrivals; i++) arrive(ctx, behaviour, residents, bins, readers, pendingWork);
    for (const bin of bins) {
      if (bin.isCollectionDue && behaviour.chance(0.05)) send(ctx, bin, bin.collection(), null);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(pendingWork);
  return devices;
}

/** `later` collects sends that happen after this tick (a second tap): the run is not over before they are sent. */
function arrive(
  ctx: FleetContext,
  rng: Rng,
  residents: ResidentState[],
  bins: VirtualDevice[],
  readers: VirtualDevice[],
  later: Promise<unknown>[],
): void {
  const { options, tally } = ctx;
  const atBin = bins.length > 0 && (readers.length === 0 || rng.chance(0.6));
  const device = atBin ? rng.pick(bins) : readers.length ? rng.pick(readers) : null;
  if (!device) return;
  const state = rng.pick(residents);
  let cardUid = state.cardUid;
  let residentId: string | null = state.resident.id;
  if (rng.chance(options.unknownCards)) {
    // A visitor's card nobody registered: held as pending, credited to no one.
    cardUid = rng.hex(4);
    residentId = null;
  } else if (state.lostCardUid && rng.chance(0.5)) {
    // Found the old card in a drawer: it is blocked, so nothing is credited.
    cardUid = state.lostCardUid;
    state.lostCardUid = null;
  }
  if (device.kind === 'bin') {
    if (device.isJammed) {
      tally.turnedAway++;
      return;
    }
    send(ctx, device, device.deposit(cardUid), residentId);
    device.reportFill();
  } else {
    send(ctx, device, device.tap(cardUid), residentId);
    if (device.kind === 'terminal' && rng.chance(options.doubleTap)) {
      // Awaited with the run's other work: sent after the drain had begun, it was reported as never acked.
      const delayMs = rng.int(300, 1500);
      later.push(new Promise((r) => setTimeout(r, delayMs)).then(() => send(ctx, device, device.tap(cardUid), residentId)));
    }
  }
}

function send(ctx: FleetContext, device: VirtualDevice, event: ReturnType<VirtualDevice['tap']>, residentId: string | null): void {
  ctx.tally.noteSent(device.id, event.eventId, residentId);
  device.client.send(event).catch((err: Error) => {
    ctx.tally.refusedByOutbox++;
    ctx.log(`${device.id}: ${err.message}`);
  });
}

function planHappenings(
  ctx: FleetContext,
  devices: VirtualDevice[],
  residents: ResidentState[],
  bins: VirtualDevice[],
  rng: Rng,
): Happening[] {
  const { options, api, log } = ctx;
  const d = options.duration;
  const plan: Happening[] = [];
  const losers = residents.filter(() => rng.chance(options.lostCards));
  losers.forEach((state, i) => {
    plan.push({
      at: d * (0.2 + (0.5 * i) / Math.max(1, losers.length)),
      what: `${state.resident.name} loses card ${state.cardUid}; a new card is bound`,
      run: async () => {
        await api.reportLost(state.cardUid);
        const newUid = newCardUid();
        const bound = await api.bindCard(state.resident.id, newUid);
        if (bound.claims && bound.claims.points > 0) ctx.tally.noteOtherCredit(state.resident.id, bound.claims.points);
        state.lostCardUid = state.cardUid;
        state.cardUid = newUid;
      },
    });
  });
  if (options.offline > 0) {
    const away = devices.filter((_, i) => i % 3 === 0);
    plan.push({
      at: d * 0.25,
      what: `${away.length} devices lose their link for ${options.offline} s (events queue in their outboxes)`,
      run: async () => {
        await Promise.all(away.map((v) => v.client.goOffline({ abrupt: true })));
        await new Promise((r) => setTimeout(r, options.offline * 1000));
        await Promise.all(away.map((v) => v.client.goOnline()));
        log(`  ${away.length} devices back online, replaying their outboxes`);
      },
    });
  }
  if (options.jam && bins.length > 0) {
    const bin = rng.pick(bins);
    plan.push({
      at: d * 0.3,
      what: `bin ${bin.id} jams`,
      run: async () => {
        bin.setJammed(true);
        await new Promise((r) => setTimeout(r, d * 200));
        bin.setJammed(false);
        log(`  bin ${bin.id} cleared`);
      },
    });
  }
  if (options.reconnectStorm) {
    plan.push({
      at: d * 0.4,
      what: `reconnect storm: all ${devices.length} devices drop their link and reconnect at once`,
      run: async () => {
        await Promise.all(devices.map((v) => v.client.goOffline({ abrupt: true })));
        await Promise.all(devices.map((v) => v.client.goOnline()));
      },
    });
  }
  if (options.restartGateway && ctx.gateway) {
    const gateway = ctx.gateway;
    plan.push({
      at: d * 0.5,
      what: 'gateway killed (SIGKILL) and restarted',
      run: async () => {
        const t = Date.now();
        await gateway.crashAndRestart();
        log(`  gateway back after ${Date.now() - t} ms`);
      },
    });
  }
  return plan.sort((a, b) => a.at - b.at);
}

/** Arrivals in one tick for a mean of `mean` (Knuth's method; means here are small). */
function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * (rng.next() + rng.next() + rng.next() - 1.5) * 2));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}
