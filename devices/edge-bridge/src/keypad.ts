import { type BatteryKind, type DepositEvent, batteryKindSchema } from '../../../libs/protocol/src';

export type DepositItems = DepositEvent['items'];

/**
 * A line from the bin's counting sensor or keypad: `alkaline=3 lithium=1` (also
 * `alkaline:3,lithium:1`). Returns the items, or an error naming the bad part.
 */
export function parseKeypadLine(line: string): { ok: true; items: DepositItems } | { ok: false; error: string } {
  const parts = line
    .trim()
    .split(/[\s,;]+/)
    .filter(Boolean);
  if (parts.length === 0) return { ok: false, error: 'empty line' };
  const counts = new Map<BatteryKind, number>();
  for (const part of parts) {
    const match = /^([a-z]+)[=:](\d{1,3})$/i.exec(part);
    if (!match) return { ok: false, error: `"${part}" is not kind=count` };
    const kind = batteryKindSchema.safeParse(match[1]!.toLowerCase());
    if (!kind.success) return { ok: false, error: `"${match[1]}" is not a battery kind (alkaline, lithium, button, rechargeable, other)` };
    const count = (counts.get(kind.data) ?? 0) + Number(match[2]);
    if (count > 500) return { ok: false, error: `${kind.data}: at most 500 per deposit` };
    counts.set(kind.data, count);
  }
  const items = [...counts].filter(([, c]) => c > 0).map(([kind, count]) => ({ kind, count }));
  return items.length ? { ok: true, items } : { ok: false, error: 'every count is 0' };
}
