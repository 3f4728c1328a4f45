import { TEST_ADMIN_TOKEN } from './gateway-process';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

/** A small typed wrapper over fetch for the admin API. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null = TEST_ADMIN_TOKEN,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T) };
  }

  async ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

export interface Fixture {
  communityId: string;
  residentId: string;
  cardUid: string;
  device: { id: string; password: string };
}

let uidCounter = Math.floor(Math.random() * 0xffffff);

/** A fresh 4-byte card uid, unique within a run. */
export function newCardUid(): string {
  uidCounter = (uidCounter + 1) % 0xffffff;
  return `E0${uidCounter.toString(16).toUpperCase().padStart(6, '0')}`;
}

export async function createCommunity(api: ApiClient, name = '海港社区'): Promise<string> {
  return (await api.ok<{ id: string }>('POST', '/api/v1/communities', { name })).id;
}

export async function createResidentWithCard(
  api: ApiClient,
  communityId: string,
  name = '张三',
): Promise<{ residentId: string; cardUid: string }> {
  const resident = await api.ok<{ id: string }>('POST', '/api/v1/residents', { communityId, name });
  const cardUid = newCardUid();
  await api.ok('POST', `/api/v1/residents/${resident.id}/cards`, { uid: cardUid });
  return { residentId: resident.id, cardUid };
}

export async function createDevice(api: ApiClient, communityId: string, kind: 'bin' | 'terminal' | 'counter' = 'bin', id?: string) {
  const body = await api.ok<{ id: string; mqtt: { username: string; password: string } }>('POST', '/api/v1/devices', {
    kind,
    communityId,
    ...(id ? { id } : {}),
  });
  return { id: body.id, password: body.mqtt.password };
}

export async function createFixture(api: ApiClient): Promise<Fixture> {
  const communityId = await createCommunity(api);
  const { residentId, cardUid } = await createResidentWithCard(api, communityId);
  const device = await createDevice(api, communityId);
  return { communityId, residentId, cardUid, device };
}

export async function balanceOf(api: ApiClient, residentId: string): Promise<number> {
  return (await api.ok<{ balance: number }>('GET', `/api/v1/residents/${residentId}`)).balance;
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
