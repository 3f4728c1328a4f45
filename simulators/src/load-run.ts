import { randomBytes } from 'node:crypto';
import { NO_FAULTS } from './flaky-link';
import { type FleetContext } from './fleet-run';
import { Rng } from './rng';
import { VirtualDevice } from './virtual-device';

/**
 * Load mode: deposits only, from every bin of the population at once, either at a
 * target rate in all (spread round-robin over the connections) or as fast as acks
 * come back (`window` events in flight per connection). No link faults: this
 * measures the gateway.
 */
export async function runLoad(ctx: FleetContext): Promise<VirtualDevice[]> {
  const { options, population, tally, log } = ctx;
  const rng = new Rng(options.seed);
  const runTag = randomBytes(4).toString('hex');
  const bins = population.devices.filter((d) => d.kind === 'bin');
  const devices = await Promise.all(
    bins.map((device, i) =>
      VirtualDevice.create(
        device,
        rng.fork(device.id),
        {
          mqttUrl: ctx.mqttUrl,
          mqttVersion: options.mqttVersion,
          ...(options.outboxDir ? { outboxDir: options.outboxDir } : {}),
          resend: { firstMs: options.resendFirstMs, maxMs: options.resendMaxMs },
          flaky: NO_FAULTS,
          clockSkewMs: 0,
          telemetryIntervalMs: 60_000,
        },
        `${runTag}-${i}`,
      ),
    ),
  );
  const residents = population.residents;
  let stopped = false;
  let nextResident = 0;
  const sendOne = (device: VirtualDevice) => {
    const resident = residents[nextResident++ % residents.length]!;
    const event = device.deposit(resident.cardUid);
    tally.noteSent(device.id, event.eventId, resident.id);
    device.client.send(event).catch((err: Error) => {
      tally.refusedByOutbox++;
      log(`${device.id}: ${err.message}`);
    });
  };
  for (const device of devices) {
    device.onAck((received) => {
      tally.noteAck(device.id, received);
      if (!stopped && options.targetRate === 'max' && !received.isRepeat) sendOne(device);
    });
  }
  await Promise.all(devices.map((d) => d.client.start()));
  log(
    `${devices.length} connections open; load ${options.targetRate === 'max' ? `as fast as acks, window ${options.window}` : `${options.targetRate} events/s`}`,
  );

  const started = Date.now();
  if (options.targetRate === 'max') {
    for (const device of devices) for (let i = 0; i < options.window; i++) sendOne(device);
    await new Promise((r) => setTimeout(r, options.duration * 1000));
  } else {
    const rate = options.targetRate;
    let sentSoFar = 0;
    let turn = 0;
    while (Date.now() - started < options.duration * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      while (sentSoFar < due) {
        sendOne(devices[turn++ % devices.length]!);
        sentSoFar++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  stopped = true;
  return devices;
}
