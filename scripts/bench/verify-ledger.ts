import { type AdminApi, balanceOf, mapConcurrent } from './admin-api';
import { DEPOSIT_POINTS, type Fleet } from './fleet';

export interface Verification {
  passed: boolean;
  problems: string[];
  eventsSent: number;
  creditedAcks: number;
  residentsChecked: number;
  pointsExpected: number;
  pointsInApi: number;
}

/**
 * The ledger is never wrong: every event sent got exactly one ack, credited with
 * the deposit's points, and every resident's balance over the admin API is the
 * sum of the points sent to them. Waits `settleMs` first so late duplicates count.
 */
export async function verifyLedger(api: AdminApi, fleet: Fleet, settleMs = 500): Promise<Verification> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const { tally } = fleet;
  const problems: string[] = [];
  if (fleet.outstanding > 0) problems.push(`${fleet.outstanding} events never got an ack`);
  if (tally.credited !== tally.sent) problems.push(`${tally.credited} credited acks for ${tally.sent} events sent`);
  if (tally.pending + tally.rejected > 0) problems.push(`not credited: ${JSON.stringify(tally.reasons)}`);
  if (tally.duplicates > 0) problems.push(`${tally.duplicates} duplicate acks`);
  if (tally.unknown > 0) problems.push(`${tally.unknown} acks for events never sent`);
  if (tally.wrongPoints > 0) problems.push(`${tally.wrongPoints} credited acks without ${DEPOSIT_POINTS} points`);

  const residents = fleet.population.residents;
  const balances = await mapConcurrent(residents.length, 8, (i) => balanceOf(api, residents[i]!.id));
  let pointsExpected = 0;
  let pointsInApi = 0;
  let wrongBalances = 0;
  balances.forEach((balance, i) => {
    const expected = fleet.expectedPoints[i]!;
    pointsExpected += expected;
    pointsInApi += balance;
    if (balance !== expected) {
      if (wrongBalances < 5) problems.push(`resident ${residents[i]!.id}: balance ${balance}, expected ${expected}`);
      wrongBalances++;
    }
  });
  if (wrongBalances > 5) problems.push(`... ${wrongBalances} residents with a wrong balance in all`);
  return {
    passed: problems.length === 0,
    problems,
    eventsSent: tally.sent,
    creditedAcks: tally.credited,
    residentsChecked: residents.length,
    pointsExpected,
    pointsInApi,
  };
}
