import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type ProvisioningKeyRepository, keyRefusal } from '../../../../libs/persistence/src';
import {
  type ProvisionRefusalCode,
  type ProvisionResponse,
  decodePayload,
  deviceTopic,
  provisionRequestSchema,
  provisionTopic,
} from '../../../../libs/protocol/src';
import type { Logger } from '../logging/logger';
import { generateDevicePassword, hashDevicePassword } from '../registry/device-credentials';
import type { AuthFailure } from './auth-failures';
import type { DeviceAccess } from './device-access';

const REFUSAL_MESSAGES: Record<ProvisionRefusalCode, string> = {
  'invalid-request': 'the request does not match the provisioning request schema',
  'unknown-key': 'no such provisioning key; check the key printed on the provisioning sheet',
  'wrong-secret': 'the provisioning secret does not match the key',
  'key-revoked': 'this provisioning key was revoked; ask operations for a new one',
  'key-expired': 'this provisioning key has expired; ask operations for a new one',
  'key-used-up': 'this provisioning key has made all the devices it may; ask operations for a new one',
  'kind-not-allowed': 'this provisioning key may not create a device of this kind',
  'device-id-taken': 'a device with this id is already registered; propose another id or leave it out',
};

/** Provisioning secrets are 256 random bits: a plain digest is enough to store them. */
export function hashProvisioningSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashProvisioningSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

export function newProvisioningKey(): { key: string; secret: string } {
  return { key: `pk_${randomBytes(8).toString('hex')}`, secret: randomBytes(32).toString('base64url') };
}

export interface ProvisioningServiceDeps {
  keys: ProvisioningKeyRepository;
  access: DeviceAccess;
  publish(topic: string, payload: string): Promise<void>;
  /** Wrong keys and secrets count as failed logins (a stranger guessing). */
  onAuthFailure(failure: AuthFailure): void;
  logger: Logger;
  now?: () => Date;
}

/**
 * Self-provisioning (issue #6, the ThingsBoard pattern): a factory-fresh
 * device sends the community's provisioning key and secret with the kind and
 * id it proposes; the gateway creates it and answers with its own credentials,
 * once, on the device's response topic. Nothing secret is logged.
 */
export class ProvisioningService {
  private readonly now: () => Date;

  constructor(private readonly deps: ProvisioningServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Never throws: every request gets an answer on its response topic.
   * Resolves once the request is judged (so a flood of requests is read no
   * faster than it is judged), without waiting for the answer's PUBACK: over
   * an external broker that PUBACK is read only after this request's handler
   * returns, so waiting for it here would wait for ever.
   */
  async receiveRequest(clientId: string, payload: Buffer): Promise<void> {
    let response: ProvisionResponse;
    try {
      response = await this.judge(clientId, payload);
    } catch (err) {
      this.deps.logger.error({ err, clientId }, 'provisioning request failed');
      return;
    }
    if (response.status === 'refused') {
      this.deps.logger.warn({ clientId, reason: response.reason }, 'provisioning request refused');
    }
    void this.deps.publish(provisionTopic(clientId, 'response'), JSON.stringify(response)).catch((err: unknown) => {
      this.deps.logger.error({ err, clientId }, 'could not publish the provisioning response');
    });
  }

  private async judge(clientId: string, payload: Buffer): Promise<ProvisionResponse> {
    const now = this.now();
    const refuse = (reason: ProvisionRefusalCode, message = REFUSAL_MESSAGES[reason]): ProvisionResponse => {
      if (reason === 'unknown-key' || reason === 'wrong-secret') {
        this.deps.onAuthFailure({
          clientId,
          username: 'provision',
          address: null,
          reason: `provisioning ${reason}`,
          at: now,
          source: 'provisioning',
        });
      }
      return { status: 'refused', reason, message };
    };
    const decoded = decodePayload(payload, provisionRequestSchema);
    if (!decoded.ok) return refuse('invalid-request', `${REFUSAL_MESSAGES['invalid-request']}: ${decoded.message}`.slice(0, 300));
    const request = decoded.value;
    const found = await this.deps.keys.findByKey(request.provisioningKey);
    if (!found) return refuse('unknown-key');
    if (!secretMatches(request.provisioningSecret, found.secretHash)) return refuse('wrong-secret');
    const kind = request.kind;
    const early = keyRefusal(found.record, kind, now);
    if (early) return refuse(early);

    const deviceId = request.deviceId ?? `${kind}-${randomBytes(5).toString('hex')}`;
    const password = generateDevicePassword();
    const outcome = await this.deps.keys.provision(
      found.record.id,
      { id: deviceId, kind, communityId: found.record.communityId, label: request.label, passwordHash: await hashDevicePassword(password) },
      now,
    );
    if (!outcome.ok) return refuse(outcome.reason);
    await this.deps.access.registered(deviceId, password);
    this.deps.logger.info(
      { deviceId, clientId, provisioningKeyId: found.record.id, communityId: found.record.communityId },
      'device provisioned itself',
    );
    return {
      status: 'ok',
      deviceId,
      credentials: { username: deviceId, password, clientId: deviceId },
      topicRoot: deviceTopic(deviceId, 'events').replace(/\/events$/, ''),
    };
  }
}
