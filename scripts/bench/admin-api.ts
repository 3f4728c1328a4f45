/** The few admin API calls the bench needs, over fetch. */
export class AdminApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return JSON.parse(await this.text(method, path, body)) as T;
  }

  async text(method: 'GET' | 'POST', path: string, body?: unknown): Promise<string> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return text;
  }
}

export interface BenchResident {
  id: string;
  cardUid: string;
}

export interface BenchDeviceCredentials {
  id: string;
  password: string;
}

export interface Population {
  communityId: string;
  residents: BenchResident[];
  devices: BenchDeviceCredentials[];
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` at a time, results in order. */
export async function mapConcurrent<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** A distinct 4-byte card UID per index (8 upper-case hex characters). */
export function cardUidFor(index: number): string {
  return (0xb0000000 + index).toString(16).toUpperCase();
}

/**
 * One community, `residents` residents with a card each, `devices` bins. Device
 * creation hashes a password with argon2 (~70 ms), so it runs only a few at a time.
 */
export async function createPopulation(api: AdminApi, residents: number, devices: number): Promise<Population> {
  const { id: communityId } = await api.call<{ id: string }>('POST', '/api/v1/communities', { name: '基准社区 bench' });
  const created = await mapConcurrent(residents, 8, async (i) => {
    const { id } = await api.call<{ id: string }>('POST', '/api/v1/residents', { communityId, name: `居民 ${i}` });
    const cardUid = cardUidFor(i);
    await api.call('POST', `/api/v1/residents/${id}/cards`, { uid: cardUid });
    return { id, cardUid };
  });
  const bins = await mapConcurrent(devices, 3, async () => {
    const body = await api.call<{ id: string; mqtt: { username: string; password: string } }>('POST', '/api/v1/devices', {
      kind: 'bin',
      communityId,
    });
    return { id: body.id, password: body.mqtt.password };
  });
  return { communityId, residents: created, devices: bins };
}

export async function balanceOf(api: AdminApi, residentId: string): Promise<number> {
  return (await api.call<{ balance: number }>('GET', `/api/v1/residents/${residentId}`)).balance;
}

export interface IngestCounters {
  committed: number;
  batches: number;
}

/** The gateway's group-commit counters from /health, or null if it does not report them. */
export async function ingestCounters(api: AdminApi): Promise<IngestCounters | null> {
  try {
    const res = await fetch(`${api.baseUrl}/health`);
    const body = (await res.json()) as { details?: { ingest?: Partial<IngestCounters> } };
    const ingest = body.details?.ingest;
    return typeof ingest?.committed === 'number' && typeof ingest.batches === 'number'
      ? { committed: ingest.committed, batches: ingest.batches }
      : null;
  } catch {
    return null;
  }
}

/** The gateway's /metrics text (Prometheus format), or null if it cannot be read. */
export async function metricsText(api: AdminApi): Promise<string | null> {
  try {
    return await api.text('GET', '/metrics');
  } catch {
    return null;
  }
}
