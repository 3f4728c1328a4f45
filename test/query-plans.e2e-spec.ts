import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The embedded database PREPAREs the hot path's statements once per session,
 * often while the tables are empty, and PostgreSQL keeps the generic plan it
 * then made. A plan only good for an empty table slows every batch as the
 * tables grow (it did: 8 ms a batch at 50,000 events, and 1.3 s once VACUUM
 * ANALYZE had recorded the tables as empty), so each lookup must use its keys
 * whatever the tables held when it was planned. See the harness for the setup.
 */
const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'query-plans.harness.js');

interface Probe {
  plan: string;
  rows: Record<string, unknown>[];
}

/**
 * The index scans of a plan that read a whole index: no "Index Cond" under them.
 * With sequential scans priced out (HOT_PATH_SETTINGS), a plan made for a small
 * table reads all of it this way instead, and as slowly once it is large.
 */
function fullIndexScans(plan: string): string[] {
  const lines = plan.split('\n');
  return lines.flatMap((line, i) => {
    const scan = /Index (?:Only )?Scan(?: Backward)? using (\S+) on (\S+)/.exec(line);
    return scan && !/Index Cond:/.test(lines[i + 1] ?? '') ? [`${scan[1]} on ${scan[2]}`] : [];
  });
}

describe('hot-path lookups prepared on empty tables, used on full ones', () => {
  let result: {
    devices: Probe;
    storedAcks: Probe;
    cardHolders: Probe;
    tallies: Probe;
    writeBatch: Probe;
    maintenance: { estimateBeforeTimer: number; estimateAfterTimer: number; tableRows: number };
  };

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [HARNESS], { maxBuffer: 1 << 20 });
    result = JSON.parse(stdout) as typeof result;
  }, 60_000);

  it('finds stored acks by probing the (device_id, event_id) index, not by scanning 30,000 events', () => {
    expect(result.storedAcks.plan).toContain('device_event_device_id_event_id_key');
    expect(result.storedAcks.plan).not.toMatch(/Seq Scan on device_event/);
    // Only stored events come back: 'new' is not one.
    expect(result.storedAcks.rows).toEqual([{ device_id: 'bin-plan', event_id: 'e17', ack: '{"eventId":"e17"}' }]);
  });

  it('finds devices by key, not by scanning 30,000 of them', () => {
    expect(result.devices.plan).not.toMatch(/Seq Scan on device/);
    expect(result.devices.rows.map((r) => r['id']).sort()).toEqual(['bin-7', 'bin-plan']);
  });

  it('refreshes the planner’s statistics on the embedded database’s maintenance timer', () => {
    expect(result.maintenance.estimateBeforeTimer).toBeLessThan(100);
    expect(result.maintenance.estimateAfterTimer).toBe(result.maintenance.tableRows);
  });

  it('reads no whole index in any of them', () => {
    for (const probe of [result.devices, result.storedAcks, result.cardHolders, result.tallies, result.writeBatch]) {
      expect(fullIndexScans(probe.plan)).toEqual([]);
      expect(probe.plan).not.toMatch(/Seq Scan on (?!jsonb)/);
    }
  });

  it('finds deposit tallies by their keys, not by reading all 11,000 of them', () => {
    expect(result.tallies.plan).toMatch(/Index Scan using deposit_tally_pkey on deposit_tally t[^\n]*\n\s+Index Cond:/);
    // Two of the three keys have a tally; the third is a day without deposits.
    expect(result.tallies.rows).toEqual([
      { resident_id: '00000000-0000-4000-a000-000000000007', period: 'day', period_start: '2026-01-03', points: 7, batteries: 2 },
      { resident_id: '00000000-0000-4000-a000-000000000007', period: 'month', period_start: '2026-01-01', points: 7, batteries: 10 },
    ]);
  });

  it('updates residents’ points and the chain head by key in the batch write, not by joining every resident', () => {
    expect(result.writeBatch.plan).toMatch(/Index Scan using resident_pkey on resident[^\n]*\n\s+Index Cond: \(id = ANY/);
    expect(result.writeBatch.plan).toMatch(/using ledger_chain_head_pkey on ledger_chain_head[^\n]*\n\s+Index Cond:/);
  });

  it('finds card holders by their keys, not by scanning 30,000 cards and residents', () => {
    expect(result.cardHolders.plan).not.toMatch(/Seq Scan on (card|resident)/);
    expect(result.cardHolders.rows.map((r) => r['uid']).sort()).toEqual(['00000007', '0000002A']);
  });
});
