import { type AdminClient } from './admin-client';
import { type SimResident } from './population';
import { type RunTally } from './run-tally';

export interface BalanceDifference {
  residentId: string;
  name: string;
  before: number;
  expected: number;
  actual: number;
}

/** Balances of the residents before the run, so a reused community's history does not count. */
export async function readBalances(api: AdminClient, residents: readonly SimResident[]): Promise<Map<string, number>> {
  const balances = new Map<string, number>();
  for (let i = 0; i < residents.length; i += 10) {
    const chunk = residents.slice(i, i + 10);
    const values = await Promise.all(chunk.map((r) => api.balance(r.id)));
    chunk.forEach((r, j) => balances.set(r.id, values[j]!));
  }
  return balances;
}

/**
 * Every resident's balance on the gateway must equal their balance before the run
 * plus what the acks this run received credited (and held deposits claimed when a
 * new card was bound). Anything else is listed.
 */
export async function checkBalances(
  api: AdminClient,
  residents: readonly SimResident[],
  before: Map<string, number>,
  tally: RunTally,
): Promise<BalanceDifference[]> {
  const after = await readBalances(api, residents);
  const differences: BalanceDifference[] = [];
  for (const r of residents) {
    const start = before.get(r.id) ?? 0;
    const expected = start + (tally.creditedPoints.get(r.id) ?? 0) + (tally.otherCredits.get(r.id) ?? 0);
    const actual = after.get(r.id)!;
    if (actual !== expected) differences.push({ residentId: r.id, name: r.name, before: start, expected, actual });
  }
  return differences;
}
