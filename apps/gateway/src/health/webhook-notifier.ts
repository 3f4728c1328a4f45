import { createHmac } from 'node:crypto';
import type { AlertRecord, WebhookRecord } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import type { AlertEventKind } from './alert-engine';

export interface WebhookTarget {
  url: string;
  secret: string | null;
}

export interface WebhookNotifierOptions {
  /** From WEBHOOK_URLS; the ones added through the API are read with `targets`. */
  envUrls: string[];
  targets: () => Promise<WebhookRecord[]>;
  maxQueue: number;
  maxAttempts: number;
  /** The first retry waits this long, each next one twice as long (capped at 5 min). */
  retryBaseMs: number;
  timeoutMs: number;
  fetch?: typeof fetch;
}

interface Delivery {
  target: WebhookTarget;
  body: string;
  attempts: number;
  dueAt: number;
}

export interface WebhookStats {
  queued: number;
  delivered: number;
  failedAttempts: number;
  abandoned: number;
  dropped: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Posts alert openings and resolutions to webhooks (issue #6). `notify` only
 * queues, so ingest never waits on a slow receiver; the queue is bounded (the
 * oldest delivery is dropped, counted and logged when it is full); a failed
 * post (an error, a timeout or a non-2xx answer) is retried with exponential
 * backoff up to maxAttempts. Each body is signed with HMAC-SHA256 when the
 * endpoint has a secret (`X-Jifen-Signature: sha256=<hex>`).
 */
export class WebhookNotifier {
  private readonly queue: Delivery[] = [];
  private timer: NodeJS.Timeout | null = null;
  private isSending = false;
  private isStopped = false;
  private readonly fetch: typeof fetch;
  readonly stats: WebhookStats = { queued: 0, delivered: 0, failedAttempts: 0, abandoned: 0, dropped: 0 };

  constructor(
    private readonly logger: Logger,
    private readonly options: WebhookNotifierOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.fetch = options.fetch ?? fetch;
  }

  /** The alert listener: fans out to every endpoint. Never throws, never waits for a post. */
  notify(kind: AlertEventKind, alert: AlertRecord): void {
    if (kind === 'acknowledged' || this.isStopped) return;
    const body = JSON.stringify({ type: `alert.${kind}`, alert, sentAt: new Date(this.now()).toISOString() });
    void this.resolveTargets().then((targets) => {
      for (const target of targets) this.enqueue({ target, body, attempts: 0, dueAt: this.now() });
    });
  }

  stop(): void {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async resolveTargets(): Promise<WebhookTarget[]> {
    const targets: WebhookTarget[] = this.options.envUrls.map((url) => ({ url, secret: null }));
    try {
      for (const w of await this.options.targets()) targets.push({ url: w.url, secret: w.secret });
    } catch (err) {
      this.logger.error({ err }, 'webhook endpoints could not be read; sending to WEBHOOK_URLS only');
    }
    return targets;
  }

  private enqueue(delivery: Delivery): void {
    if (this.queue.length >= this.options.maxQueue) {
      const dropped = this.queue.shift()!;
      this.stats.dropped++;
      this.logger.warn({ url: dropped.target.url, queued: this.queue.length }, 'webhook queue full: oldest notification dropped');
    }
    this.queue.push(delivery);
    this.stats.queued = this.queue.length;
    this.schedule();
  }

  private schedule(): void {
    if (this.isSending || this.isStopped || this.queue.length === 0) return;
    const next = Math.min(...this.queue.map((d) => d.dueAt));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sendDue(), Math.max(0, next - this.now()));
    this.timer.unref();
  }

  private async sendDue(): Promise<void> {
    this.timer = null;
    this.isSending = true;
    try {
      const now = this.now();
      const due = this.queue.filter((d) => d.dueAt <= now);
      for (const delivery of due) {
        this.queue.splice(this.queue.indexOf(delivery), 1);
        await this.attempt(delivery);
      }
    } finally {
      this.isSending = false;
      this.stats.queued = this.queue.length;
      this.schedule();
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.attempts++;
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'jifen-gateway' };
    if (delivery.target.secret) {
      headers['X-Jifen-Signature'] = `sha256=${createHmac('sha256', delivery.target.secret).update(delivery.body).digest('hex')}`;
    }
    let problem: string;
    try {
      const res = await this.fetch(delivery.target.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        this.stats.delivered++;
        return;
      }
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    this.stats.failedAttempts++;
    if (delivery.attempts >= this.options.maxAttempts) {
      this.stats.abandoned++;
      this.logger.error({ url: delivery.target.url, attempts: delivery.attempts, problem }, 'webhook given up after its last attempt');
      return;
    }
    const waitMs = Math.min(MAX_BACKOFF_MS, this.options.retryBaseMs * 2 ** (delivery.attempts - 1));
    this.logger.warn({ url: delivery.target.url, attempt: delivery.attempts, problem, retryInMs: waitMs }, 'webhook failed; will retry');
    delivery.dueAt = this.now() + waitMs;
    this.queue.push(delivery);
  }
}
