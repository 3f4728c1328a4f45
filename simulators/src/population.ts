import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { type AdminClient } from './admin-client';

export type DeviceKind = 'bin' | 'terminal' | 'counter';

const populationSchema = z.object({
  gatewayUrl: z.string(),
  communityId: z.string(),
  residents: z.array(z.object({ id: z.string(), name: z.string(), cardUid: z.string() })),
  devices: z.array(z.object({ id: z.string(), kind: z.enum(['bin', 'terminal', 'counter']), password: z.string() })),
});
export type Population = z.infer<typeof populationSchema>;
export type SimResident = Population['residents'][number];
export type SimDevice = Population['devices'][number];

export interface PopulationWanted {
  residents: number;
  bins: number;
  terminals: number;
  counters: number;
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '霞', '平'];

/** Card UIDs as the readers print them: mostly 4-byte (MIFARE Classic), some 7-byte (NTAG). */
export function newCardUid(): string {
  return randomBytes(randomBytes(1)[0]! < 200 ? 4 : 7)
    .toString('hex')
    .toUpperCase();
}

/**
 * The demo community, residents with cards and devices, through the admin API.
 * Kept in a state file (it holds device passwords: mode 0600) so the next run
 * reuses them; a state file for another gateway, or whose community is gone, is
 * replaced. Identities are random; behaviour is what the seed makes repeatable.
 */
export async function provisionPopulation(
  api: AdminClient,
  wanted: PopulationWanted,
  statePath: string,
  progress: (line: string) => void,
): Promise<{ population: Population; isReused: boolean }> {
  let population = await loadState(api, statePath, progress);
  const isReused = population !== null;
  population ??= {
    gatewayUrl: api.baseUrl,
    communityId: (await api.createCommunity('模拟社区 / simulated community')).id,
    residents: [],
    devices: [],
  };
  const save = () => saveState(statePath, population);
  save();

  const salt = randomBytes(3).toString('hex');
  for (let i = population.residents.length; i < wanted.residents; i++) {
    const name = `${SURNAMES[i % SURNAMES.length]}${GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length]}${i >= SURNAMES.length * GIVEN.length ? i : ''}`;
    const resident = await api.createResident(population.communityId, name, `sim-${salt}-${i}`);
    const cardUid = newCardUid();
    await api.bindCard(resident.id, cardUid);
    population.residents.push({ id: resident.id, name, cardUid });
    if ((i + 1) % 25 === 0) {
      progress(`  residents ${i + 1}/${wanted.residents}`);
      save();
    }
  }
  for (const kind of ['bin', 'terminal', 'counter'] as const) {
    const want = kind === 'bin' ? wanted.bins : kind === 'terminal' ? wanted.terminals : wanted.counters;
    let have = population.devices.filter((d) => d.kind === kind).length;
    while (have < want) {
      const created = await api.createDevice(population.communityId, kind, `sim-${kind}-${salt}-${have + 1}`);
      population.devices.push({ id: created.id, kind, password: created.mqtt.password });
      have++;
      if (have % 25 === 0) progress(`  ${kind}s ${have}/${want}`);
    }
    save();
  }
  return { population, isReused };
}

async function loadState(api: AdminClient, path: string, progress: (line: string) => void): Promise<Population | null> {
  if (!existsSync(path)) return null;
  const parsed = populationSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    progress(`state file ${path} is not one of ours; making a new demo community`);
    return null;
  }
  const state = parsed.data;
  if (state.gatewayUrl !== api.baseUrl) {
    progress(`state file ${path} is for ${state.gatewayUrl}; making a new demo community at ${api.baseUrl}`);
    return null;
  }
  if (!(await api.findCommunity(state.communityId))) {
    progress(`the community of ${path} is gone from the gateway; making a new one`);
    return null;
  }
  return state;
}

function saveState(path: string, population: Population): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(population, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
