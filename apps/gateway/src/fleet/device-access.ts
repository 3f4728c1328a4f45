import type { Logger } from '../logging/logger';
import type { DeviceCredentials } from '../registry/device-credentials';

/**
 * An external broker that keeps its own copy of the device identities
 * (Mosquitto dynamic security): told of every change the registry makes.
 */
export interface BrokerIdentitySync {
  deviceRegistered(deviceId: string, password: string): Promise<void>;
  passwordChanged(deviceId: string, password: string): Promise<void>;
  deviceDisabled(deviceId: string): Promise<void>;
  deviceEnabled(deviceId: string): Promise<void>;
  deviceRetired(deviceId: string): Promise<void>;
}

export interface DeviceAccessDeps {
  credentials: DeviceCredentials;
  /** Drops the ingest's cached registry row. */
  forgetDevice(deviceId: string): Promise<void>;
  /** Drops a live connection on the embedded broker; false when none (or an external broker). */
  disconnect(deviceId: string): boolean;
  sync: BrokerIdentitySync | null;
  logger: Logger;
}

/**
 * Makes a change of a device's credentials or state take effect everywhere at
 * once: the verified-password cache, the ingest's registry cache, the live
 * connection and, in scaled mode, the broker's own client list. Called after
 * the registry row has changed.
 */
export class DeviceAccess {
  constructor(private readonly deps: DeviceAccessDeps) {}

  async registered(deviceId: string, password: string): Promise<void> {
    await this.syncing(deviceId, 'register', (s) => s.deviceRegistered(deviceId, password));
  }

  async rotated(deviceId: string, password: string): Promise<void> {
    await this.cut(deviceId);
    await this.syncing(deviceId, 'rotate', (s) => s.passwordChanged(deviceId, password));
  }

  async disabled(deviceId: string): Promise<void> {
    await this.cut(deviceId);
    await this.syncing(deviceId, 'disable', (s) => s.deviceDisabled(deviceId));
  }

  async enabled(deviceId: string): Promise<void> {
    this.deps.credentials.forget(deviceId);
    await this.deps.forgetDevice(deviceId);
    await this.syncing(deviceId, 'enable', (s) => s.deviceEnabled(deviceId));
  }

  async retired(deviceId: string): Promise<void> {
    await this.cut(deviceId);
    await this.syncing(deviceId, 'retire', (s) => s.deviceRetired(deviceId));
  }

  private async cut(deviceId: string): Promise<void> {
    this.deps.credentials.forget(deviceId);
    await this.deps.forgetDevice(deviceId);
    if (this.deps.disconnect(deviceId)) this.deps.logger.info({ deviceId }, 'disconnected the device after a credentials change');
  }

  /** The registry is the truth: a broker that missed a change is put right by the next full reconcile. */
  private async syncing(deviceId: string, what: string, run: (sync: BrokerIdentitySync) => Promise<void>): Promise<void> {
    if (!this.deps.sync) return;
    try {
      await run(this.deps.sync);
    } catch (err) {
      this.deps.logger.error({ err, deviceId }, `could not ${what} the device at the broker; the next reconcile will retry`);
    }
  }
}
