import { randomUUID } from 'node:crypto';

/** The admin API (README "Admin API"), as the simulator needs it. Errors name the call and the gateway's answer. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly retryForMs = 60_000,
  ) {}

  /**
   * One API call. While the gateway is unreachable or busy (a restart mid-run, 429,
   * 503) it is retried for up to `retryForMs`, with the same Idempotency-Key, so a
   * write whose answer was lost is not done twice.
   */
  async call<T>(method: string, path: string, body?: unknown, retryForMs = this.retryForMs): Promise<T> {
    const key = randomUUID();
    const deadline = Date.now() + retryForMs;
    for (let wait = 250; ; wait = Math.min(wait * 2, 4000)) {
      try {
        return await this.callOnce<T>(method, path, body, key);
      } catch (err) {
        const isRetryable = err instanceof AdminApiError && (err.status === 0 || err.status === 429 || err.status === 503);
        if (!isRetryable || Date.now() + wait > deadline) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async callOnce<T>(method: string, path: string, body: unknown, idempotencyKey: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(method !== 'GET' ? { 'idempotency-key': idempotencyKey } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new AdminApiError(
        0,
        'unreachable',
        `cannot reach the gateway at ${this.baseUrl} (${(err as Error).message}); is it running? (--http-url)`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const hint = res.status === 401 ? ' (check --admin-token)' : '';
      throw new AdminApiError(res.status, error?.code, `${method} ${path} -> ${res.status} ${error?.message ?? text}${hint}`);
    }
    return parsed as T;
  }

  createCommunity(name: string): Promise<{ id: string }> {
    return this.call('POST', '/communities', { name });
  }

  findCommunity(id: string): Promise<{ id: string } | null> {
    return this.call<{ id: string }>('GET', `/communities/${id}`).catch((err: unknown) => {
      if (err instanceof AdminApiError && err.status === 404) return null;
      throw err;
    });
  }

  createResident(communityId: string, name: string, externalRef: string): Promise<{ id: string }> {
    return this.call('POST', '/residents', { communityId, name, externalRef });
  }

  bindCard(residentId: string, uid: string): Promise<{ claims: { claimed: number; points: number } | null }> {
    return this.call('POST', `/residents/${residentId}/cards`, { uid });
  }

  reportLost(uid: string): Promise<unknown> {
    return this.call('POST', `/cards/${uid}/report-lost`, { reason: '模拟器: 丢卡 / simulator: lost card' });
  }

  createDevice(communityId: string, kind: 'bin' | 'terminal' | 'counter', id: string): Promise<{ id: string; mqtt: { password: string } }> {
    return this.call('POST', '/devices', { kind, communityId, id, label: `simulated ${kind}` });
  }

  findDevice(id: string): Promise<{ id: string; isActive: boolean } | null> {
    return this.call<{ id: string; isActive: boolean }>('GET', `/devices/${id}`).catch((err: unknown) => {
      if (err instanceof AdminApiError && err.status === 404) return null;
      throw err;
    });
  }

  async balance(residentId: string): Promise<number> {
    return (await this.call<{ balance: number }>('GET', `/residents/${residentId}`)).balance;
  }
}
