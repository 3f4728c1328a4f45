import { type CollectionInput, type FillAlertKind, collectionReport, diffFaults, fillAlertChanges } from './bin-rules';

const thresholds = { fillWarnPercent: 80, fillFullPercent: 95 };
const open = (...kinds: FillAlertKind[]) => new Set<FillAlertKind>(kinds);

describe('fillAlertChanges', () => {
  it.each([
    ['below warn, nothing open', 79.9, open(), [], []],
    ['at warn opens warn', 80, open(), ['fill-warn'], []],
    ['85 opens warn', 85, open(), ['fill-warn'], []],
    ['96 with warn open opens full only', 96, open('fill-warn'), ['fill-full'], []],
    ['96 from nothing opens both', 96, open(), ['fill-warn', 'fill-full'], []],
    ['96 again with both open does nothing', 96, open('fill-warn', 'fill-full'), [], []],
    ['hovering just under full keeps full open (hysteresis)', 94, open('fill-warn', 'fill-full'), [], []],
    ['at full - 10 keeps full open', 85, open('fill-warn', 'fill-full'), [], []],
    ['below full - 10 resolves full only', 84.9, open('fill-warn', 'fill-full'), [], ['fill-full']],
    ['hovering under warn keeps warn open', 75, open('fill-warn'), [], []],
    ['at warn - 10 keeps warn open', 70, open('fill-warn'), [], []],
    ['below warn - 10 resolves warn', 69, open('fill-warn'), [], ['fill-warn']],
    ['an emptied bin resolves both', 2, open('fill-warn', 'fill-full'), [], ['fill-warn', 'fill-full']],
  ] as const)('%s', (_, fill, openKinds, opened, resolved) => {
    expect(fillAlertChanges(fill, openKinds, thresholds)).toEqual({ open: opened, resolve: resolved });
  });

  it('does not flap when a value oscillates around a threshold', () => {
    const state = open();
    let opens = 0;
    let resolves = 0;
    for (const fill of [79, 80, 79, 81, 78, 80, 79.5, 80.5]) {
      const changes = fillAlertChanges(fill, state, thresholds);
      changes.open.forEach((k) => state.add(k));
      changes.resolve.forEach((k) => state.delete(k));
      opens += changes.open.length;
      resolves += changes.resolve.length;
    }
    expect([opens, resolves]).toEqual([1, 0]);
  });

  it('uses the bin thresholds', () => {
    expect(fillAlertChanges(60, open(), { fillWarnPercent: 60, fillFullPercent: 70 })).toEqual({ open: ['fill-warn'], resolve: [] });
  });
});

describe('diffFaults', () => {
  it.each([
    ['nothing before, nothing now', [], [], [], []],
    ['a fault appears', [], ['JAM'], ['JAM'], []],
    ['a fault stays', ['JAM'], ['JAM'], [], []],
    ['a fault disappears', ['JAM'], [], [], ['JAM']],
    ['one replaces another', ['JAM'], ['TAMPER'], ['TAMPER'], ['JAM']],
    ['duplicates count once', [], ['DOOR', 'DOOR', 'JAM'], ['DOOR', 'JAM'], []],
    ['order does not matter', ['SCALE_ERROR', 'JAM'], ['JAM', 'SCALE_ERROR'], [], []],
  ] as const)('%s', (_, before, reported, appeared, cleared) => {
    expect(diffFaults(new Set(before), reported)).toEqual({ appeared, cleared });
  });
});

describe('collectionReport', () => {
  const t = (hh: number, mm = 0) => new Date(Date.UTC(2026, 10, 23, hh, mm));
  const collection = (id: string, at: Date, weightGrams: number): CollectionInput => ({
    id,
    collectedAt: at,
    weightGrams,
    source: 'api',
    actor: 'staff:王',
    note: null,
  });

  it('compares each collection with the deposits since the previous one', () => {
    const deposits = [
      { occurredAt: t(1), weightGrams: 400 },
      { occurredAt: t(2), weightGrams: 600 },
      { occurredAt: t(3), weightGrams: 1000 }, // exactly at the first collection: belongs to it
      { occurredAt: t(5), weightGrams: 500 },
      { occurredAt: t(6), weightGrams: null },
      { occurredAt: t(7), weightGrams: 500 },
    ];
    const [first, second] = collectionReport([collection('2', t(8), 1000), collection('1', t(3), 2050)], deposits, 10);
    expect(first).toMatchObject({
      collectionId: '1',
      since: null,
      weightCollectedGrams: 2050,
      weightCreditedGrams: 2000,
      deposits: 3,
      depositsWithoutWeight: 0,
      gapGrams: 50,
      gapPercent: 2.5,
      flagged: false,
    });
    expect(second).toMatchObject({
      collectionId: '2',
      since: t(3).toISOString(),
      weightCollectedGrams: 1000,
      weightCreditedGrams: 1000,
      deposits: 3,
      depositsWithoutWeight: 1,
      gapGrams: 0,
      gapPercent: 0,
      flagged: false,
    });
  });

  it.each([
    ['30 % less is flagged', 700, -30, true],
    ['exactly at the tolerance is not', 900, -10, false],
    ['just beyond it is', 899, -10.1, true],
    ['more than credited beyond tolerance is flagged too', 1200, 20, true],
  ] as const)('%s', (_, collected, gapPercent, flagged) => {
    const [line] = collectionReport([collection('1', t(9), collected)], [{ occurredAt: t(8), weightGrams: 1000 }], 10);
    expect(line).toMatchObject({ gapGrams: collected - 1000, gapPercent, flagged });
  });

  it('flags weight collected when nothing was credited, but not an empty collection', () => {
    const lines = collectionReport([collection('1', t(1), 500), collection('2', t(2), 0)], [], 10);
    expect(lines.map((l) => [l.gapPercent, l.flagged])).toEqual([
      [null, true],
      [null, false],
    ]);
  });

  it('ignores deposits after the last collection', () => {
    const [line] = collectionReport([collection('1', t(1), 100)], [{ occurredAt: t(2), weightGrams: 100 }], 10);
    expect(line).toMatchObject({ weightCreditedGrams: 0, deposits: 0 });
  });
});
