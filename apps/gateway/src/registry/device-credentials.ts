import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { DeviceRepository } from '../../../../libs/persistence/src';

export type DeviceAuthResult = { ok: true } | { ok: false; reason: 'unknown-device' | 'device-inactive' | 'wrong-password' };

/** How long a successful check is trusted, so a reconnect storm does not run argon2 per client. */
const VERIFIED_TTL_MS = 60_000;

export function generateDevicePassword(): string {
  return randomBytes(24).toString('base64url');
}

export function hashDevicePassword(password: string): Promise<string> {
  // argon2id with the library's defaults (19 MiB, 2 passes): OWASP's baseline.
  return hash(password);
}

/**
 * Checks device credentials against the registry's slow hashes. A verified
 * (device, password) pair is cached by a fast digest of the password for a
 * minute; an inactive device is refused every time (the flag is read fresh).
 */
export class DeviceCredentials {
  private readonly verified = new Map<string, { digest: string; until: number }>();

  constructor(
    private readonly devices: DeviceRepository,
    private readonly now: () => number = Date.now,
  ) {}

  async check(deviceId: string, password: string): Promise<DeviceAuthResult> {
    const record = await this.devices.credentials(deviceId);
    if (!record) return { ok: false, reason: 'unknown-device' };
    if (!record.isActive) return { ok: false, reason: 'device-inactive' };
    const digest = createHash('sha256').update(record.passwordHash).update('\0').update(password).digest('hex');
    const cached = this.verified.get(deviceId);
    if (cached && cached.digest === digest && cached.until > this.now()) return { ok: true };
    if (!(await verify(record.passwordHash, password))) return { ok: false, reason: 'wrong-password' };
    this.verified.set(deviceId, { digest, until: this.now() + VERIFIED_TTL_MS });
    return { ok: true };
  }

  forget(deviceId: string): void {
    this.verified.delete(deviceId);
  }
}
