import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceBrokerState } from '../../../../libs/persistence/src';
import {
  DEVICE_PUBLISH_CHANNELS,
  DEVICE_SUBSCRIBE_CHANNELS,
  PROVISION_ROOT,
  PROVISIONING_USERNAME,
  deviceTopic,
} from '../../../../libs/protocol/src';
import type { BrokerIdentitySync } from '../fleet/device-access';
import type { Logger } from '../logging/logger';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
/** Marks the broker clients this gateway manages; others (its own admin login, people) are never touched. */
export const DEVICE_CLIENT_TEXTNAME = 'jifen device';
export const PROVISIONING_ROLE = 'jifen-provisioning';
/** Mosquitto's dynsec needs a password on every client: the provisioning login's is well known, like its username. */
export const PROVISIONING_PASSWORD = 'provision';

export const roleNameOf = (deviceId: string) => `jifen-device-${deviceId}`;

type DynsecCommand = Record<string, unknown> & { command: string };
interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

/** The ACLs of one device: its own root, the channels of each direction (PROTOCOL.md). */
export function deviceRoleAcls(deviceId: string) {
  return [
    ...DEVICE_PUBLISH_CHANNELS.map((c) => ({ acltype: 'publishClientSend', topic: deviceTopic(deviceId, c), allow: true })),
    ...DEVICE_SUBSCRIBE_CHANNELS.map((c) => ({ acltype: 'subscribeLiteral', topic: deviceTopic(deviceId, c), allow: true })),
  ];
}

export interface DynsecSyncOptions {
  url: string;
  username: string | undefined;
  password: string | undefined;
  logger: Logger;
  timeoutMs?: number;
}

/**
 * Keeps Mosquitto's dynamic-security plugin in step with the device registry
 * over `$CONTROL/dynamic-security/v1` (mosquitto 2.0): one client per device
 * (username = client id = device id) holding a role of its own with literal
 * ACLs for its root. A full reconcile at start, then every change as it
 * happens. Passwords exist in clear only at registration and rotation, so a
 * device the broker has never seen (registered while this was off) is created
 * without one and needs a rotation; the reconcile says which.
 */
export class DynsecSync implements BrokerIdentitySync {
  private client: MqttClient | null = null;
  private readonly waiting = new Map<string, { resolve: (r: DynsecResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly options: DynsecSyncOptions) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.options.url, {
      clientId: `jifen-dynsec-${randomBytes(4).toString('hex')}`,
      username: this.options.username,
      password: this.options.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      let responses: DynsecResponse[];
      try {
        responses = (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
      } catch {
        return;
      }
      for (const r of responses) {
        const waiter = r.correlationData ? this.waiting.get(r.correlationData) : undefined;
        if (!waiter) continue;
        this.waiting.delete(r.correlationData!);
        clearTimeout(waiter.timer);
        waiter.resolve(r);
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
  }

  async stop(): Promise<void> {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    // Forced: nothing is in flight that matters at shutdown, and a polite end can wait for a broker that is gone.
    await this.client?.endAsync(true);
    this.client = null;
  }

  /** Brings the broker to the registry: creates, enables, disables and deletes device clients. */
  async reconcile(devices: readonly DeviceBrokerState[]): Promise<{ created: string[]; deleted: string[]; needRotation: string[] }> {
    await this.ensureProvisioningLogin();
    const listed = await this.run([{ command: 'listClients', verbose: true }]);
    const known = new Map<string, { disabled: boolean }>();
    for (const c of (listed[0]?.data?.['clients'] as { username: string; textname?: string; disabled?: boolean }[] | undefined) ?? []) {
      if (c.textname === DEVICE_CLIENT_TEXTNAME) known.set(c.username, { disabled: c.disabled === true });
    }
    const created: string[] = [];
    const deleted: string[] = [];
    const commands: DynsecCommand[] = [];
    const inRegistry = new Set<string>();
    for (const d of devices) {
      inRegistry.add(d.id);
      const atBroker = known.get(d.id);
      if (d.isRetired) {
        if (atBroker) {
          commands.push({ command: 'deleteClient', username: d.id }, { command: 'deleteRole', rolename: roleNameOf(d.id) });
          deleted.push(d.id);
        }
        continue;
      }
      if (!atBroker) {
        commands.push(...this.createCommands(d.id, undefined));
        created.push(d.id);
        if (!d.isActive) commands.push({ command: 'disableClient', username: d.id });
        continue;
      }
      if (atBroker.disabled === d.isActive) commands.push({ command: d.isActive ? 'enableClient' : 'disableClient', username: d.id });
    }
    for (const username of known.keys()) {
      if (inRegistry.has(username)) continue;
      commands.push({ command: 'deleteClient', username }, { command: 'deleteRole', rolename: roleNameOf(username) });
      deleted.push(username);
    }
    // Batches keep each control message small.
    for (let i = 0; i < commands.length; i += 100) await this.run(commands.slice(i, i + 100), true);
    if (created.length > 0) {
      this.options.logger.warn(
        { devices: created.slice(0, 50), count: created.length },
        'devices unknown to the broker were added without a password: rotate their credentials so they can log in',
      );
    }
    this.options.logger.info({ devices: devices.length, created: created.length, deleted: deleted.length }, 'dynamic security reconciled');
    return { created, deleted, needRotation: created };
  }

  async deviceRegistered(deviceId: string, password: string): Promise<void> {
    const [, created] = await this.run(this.createCommands(deviceId, password), true);
    if (created?.error) {
      // Already there (an earlier reconcile): give it this password.
      await this.run([
        { command: 'setClientPassword', username: deviceId, password },
        { command: 'enableClient', username: deviceId },
      ]);
    }
  }

  async passwordChanged(deviceId: string, password: string): Promise<void> {
    // Disable and enable again: disabling drops a connected session, which a password change alone does not promise.
    await this.run([
      { command: 'setClientPassword', username: deviceId, password },
      { command: 'disableClient', username: deviceId },
      { command: 'enableClient', username: deviceId },
    ]);
  }

  async deviceDisabled(deviceId: string): Promise<void> {
    await this.run([{ command: 'disableClient', username: deviceId }]);
  }

  async deviceEnabled(deviceId: string): Promise<void> {
    await this.run([{ command: 'enableClient', username: deviceId }]);
  }

  async deviceRetired(deviceId: string): Promise<void> {
    await this.run([
      { command: 'deleteClient', username: deviceId },
      { command: 'deleteRole', rolename: roleNameOf(deviceId) },
    ]);
  }

  private createCommands(deviceId: string, password: string | undefined): DynsecCommand[] {
    return [
      { command: 'createRole', rolename: roleNameOf(deviceId), acls: deviceRoleAcls(deviceId) },
      {
        command: 'createClient',
        username: deviceId,
        clientid: deviceId,
        textname: DEVICE_CLIENT_TEXTNAME,
        ...(password === undefined ? {} : { password }),
        roles: [{ rolename: roleNameOf(deviceId) }],
      },
    ];
  }

  /**
   * The well-known provisioning login: may publish a request and subscribe to
   * one response topic. Mosquitto 2.0's dynsec cannot bind a topic to the
   * client id (no %c in its ACLs), so any single response topic is allowed and
   * the wildcard filter itself is denied first; a provisioning device therefore
   * uses an unguessable client id (README). The role is made afresh at each
   * start so its ACLs are always these.
   */
  private async ensureProvisioningLogin(): Promise<void> {
    await this.run(
      [
        { command: 'deleteRole', rolename: PROVISIONING_ROLE },
        {
          command: 'createRole',
          rolename: PROVISIONING_ROLE,
          acls: [
            { acltype: 'publishClientSend', topic: `${PROVISION_ROOT}/+/request`, allow: true },
            { acltype: 'subscribeLiteral', topic: `${PROVISION_ROOT}/+/response`, allow: false, priority: 10 },
            { acltype: 'subscribePattern', topic: `${PROVISION_ROOT}/+/response`, allow: true },
          ],
        },
        {
          command: 'createClient',
          username: PROVISIONING_USERNAME,
          password: PROVISIONING_PASSWORD,
          textname: 'jifen provisioning',
          roles: [{ rolename: PROVISIONING_ROLE }],
        },
        { command: 'addClientRole', username: PROVISIONING_USERNAME, rolename: PROVISIONING_ROLE },
      ],
      true,
    );
  }

  /**
   * Sends commands in one control message and waits for their answers. An
   * error answer throws unless `tolerateErrors` (create-if-missing steps).
   */
  private async run(commands: readonly DynsecCommand[], tolerateErrors = false): Promise<DynsecResponse[]> {
    const client = this.client;
    if (!client) throw new Error('dynamic security sync is not started');
    const timeoutMs = this.options.timeoutMs ?? 5000;
    const tagged = commands.map((c) => ({ ...c, correlationData: randomBytes(8).toString('hex') }));
    const answers = tagged.map(
      (c) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.waiting.delete(c.correlationData);
            reject(new Error(`no answer from the broker's dynamic security to ${c.command} in ${timeoutMs} ms`));
          }, timeoutMs);
          this.waiting.set(c.correlationData, { resolve, reject, timer });
        }),
    );
    await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    const responses = await Promise.all(answers);
    const failed = responses.filter((r) => r.error);
    if (failed.length > 0 && !tolerateErrors) {
      throw new Error(`dynamic security refused: ${failed.map((r) => `${r.command}: ${r.error}`).join('; ')}`);
    }
    return responses;
  }
}
