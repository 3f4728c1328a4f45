import { type LinkShaper } from '../../libs/protocol/src/device';
import { type Rng } from './rng';

export interface FlakyLinkSettings {
  /** Share of publishes and acks lost, 0..1. */
  loss: number;
  /** Share sent twice. */
  duplicate: number;
  /** Share held back by an extra delay, so later messages overtake them. */
  reorder: number;
  /** Delay added to every message, ms (a slow mobile link). */
  delayMs: number;
}

export const NO_FAULTS: FlakyLinkSettings = { loss: 0, duplicate: 0, reorder: 0, delayMs: 0 };
export const FLAKY_DEFAULT: FlakyLinkSettings = { loss: 0.1, duplicate: 0.1, reorder: 0.15, delayMs: 30 };

export interface LinkCounters {
  lost: number;
  duplicated: number;
  reordered: number;
}

/**
 * A mobile link that loses, repeats, reorders and delays messages in both
 * directions (events out, acks in), by a seeded random stream.
 */
export class FlakyLink implements LinkShaper {
  readonly counters: LinkCounters = { lost: 0, duplicated: 0, reordered: 0 };

  constructor(
    private readonly settings: FlakyLinkSettings,
    private readonly rng: Rng,
    private readonly schedule: (fn: () => void, ms: number) => void = (fn, ms) => void setTimeout(fn, ms),
  ) {}

  transmit(publish: () => void): void {
    this.shape(publish);
  }

  deliver(receive: () => void): void {
    this.shape(receive);
  }

  private shape(fn: () => void): void {
    const { loss, duplicate, reorder, delayMs } = this.settings;
    if (this.rng.chance(loss)) {
      this.counters.lost++;
      return;
    }
    let delay = delayMs > 0 ? Math.round(delayMs * (0.5 + this.rng.next())) : 0;
    if (this.rng.chance(reorder)) {
      this.counters.reordered++;
      delay += 50 + this.rng.int(0, 400);
    }
    this.run(fn, delay);
    if (this.rng.chance(duplicate)) {
      this.counters.duplicated++;
      this.run(fn, delay + this.rng.int(0, 200));
    }
  }

  private run(fn: () => void, delay: number): void {
    if (delay <= 0) fn();
    else this.schedule(fn, delay);
  }
}

/** Parses `--flaky` values: `loss=0.1,dup=0.1,reorder=0.2,delay=50`; a bare `--flaky` takes the defaults. */
export function parseFlakySettings(spec: string): FlakyLinkSettings {
  if (spec === '' || spec === 'true') return { ...FLAKY_DEFAULT };
  const settings = { ...FLAKY_DEFAULT };
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=') as [string, string | undefined];
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`--flaky: "${part}" must be name=number, e.g. loss=0.1`);
    if (key === 'delay') settings.delayMs = n;
    else if (key === 'loss' || key === 'dup' || key === 'reorder') {
      if (n > 0.9) throw new Error(`--flaky: ${key} is a share between 0 and 0.9, got ${n}`);
      if (key === 'dup') settings.duplicate = n;
      else settings[key] = n;
    } else throw new Error(`--flaky: unknown setting "${key}"; use loss, dup, reorder, delay`);
  }
  return settings;
}
