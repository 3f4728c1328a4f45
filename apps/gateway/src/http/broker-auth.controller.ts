import { timingSafeEqual } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src';
import {
  PROVISIONING_USERNAME,
  isTopicAllowedForDevice,
  isTopicAllowedForProvisioning,
  isValidDeviceId,
} from '../../../../libs/protocol/src';
import { AuthFailureTracker } from '../fleet/auth-failures';
import { DeviceCredentials } from '../registry/device-credentials';
import { parseBody } from './parse-body';
import { Public } from './roles';

/** The shared secret EMQX sends in this header (configured on both sides), and the gateway's own broker login. */
export const BROKER_AUTH_HEADER = 'x-jifen-broker-secret';

export abstract class BrokerAuthSettings {
  abstract readonly secret: string | undefined;
  abstract readonly gatewayUsername: string | undefined;
  abstract readonly gatewayPassword: string | undefined;
}

// EMQX fills its placeholders as strings; an unset one arrives as "" or "undefined".
const text = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : (v ?? '')), z.string().max(1024));

export const brokerAuthenticateBody = z.object({
  clientid: text,
  username: text,
  password: text,
  peerhost: text.optional(),
});

export const brokerAuthorizeBody = z.object({
  clientid: text,
  username: text,
  topic: z.string().min(1).max(1024),
  action: z.enum(['publish', 'subscribe', 'all']),
  retain: z.preprocess((v) => v === true || v === 'true', z.boolean()).optional(),
});

type Verdict = { result: 'allow' | 'deny' | 'ignore'; is_superuser?: boolean };

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * EMQX 5 HTTP authentication and authorisation (scaled mode): EMQX asks these
 * two endpoints on every CONNECT and on every publish/subscribe it has not
 * cached, and reads `{"result": "allow" | "deny" | "ignore", "is_superuser"}`
 * from a 200 answer. Same identities and ACLs as the embedded broker. Not a
 * staff route: EMQX proves itself with the shared secret header.
 */
@ApiTags('broker')
@Public()
@Controller('api/v1/broker-auth')
export class BrokerAuthController {
  constructor(
    @Inject(DeviceCredentials) private readonly credentials: DeviceCredentials,
    @Inject(AuthFailureTracker) private readonly authFailures: AuthFailureTracker,
    @Inject(BrokerAuthSettings) private readonly settings: BrokerAuthSettings,
  ) {}

  @Post('authenticate')
  @HttpCode(200)
  @ApiOperation({ summary: 'EMQX HTTP authentication: may this client connect with this username and password?' })
  @ApiHeader({ name: BROKER_AUTH_HEADER, required: true })
  async authenticate(@Headers(BROKER_AUTH_HEADER) secret: string | undefined, @Body() body: unknown): Promise<Verdict> {
    this.checkSecret(secret);
    const input = parseBody(brokerAuthenticateBody, body);
    const { gatewayUsername, gatewayPassword } = this.settings;
    if (gatewayUsername && input.username === gatewayUsername) {
      if (gatewayPassword !== undefined && sameSecret(input.password, gatewayPassword)) return { result: 'allow', is_superuser: true };
      return this.deny(input, 'wrong-password');
    }
    if (input.username === PROVISIONING_USERNAME) {
      return isValidDeviceId(input.clientid) ? { result: 'allow', is_superuser: false } : this.deny(input, 'bad-client-id');
    }
    if (!isValidDeviceId(input.username) || input.password === '') return this.deny(input, 'no-credentials');
    const checked = await this.credentials.check(input.username, input.password);
    if (!checked.ok) return this.deny(input, checked.reason);
    return { result: 'allow', is_superuser: false };
  }

  @Post('authorize')
  @HttpCode(200)
  @ApiOperation({ summary: 'EMQX HTTP authorisation: may this client publish or subscribe to this topic?' })
  @ApiHeader({ name: BROKER_AUTH_HEADER, required: true })
  authorize(@Headers(BROKER_AUTH_HEADER) secret: string | undefined, @Body() body: unknown): Verdict {
    this.checkSecret(secret);
    const input = parseBody(brokerAuthorizeBody, body);
    const actions: ('publish' | 'subscribe')[] = input.action === 'all' ? ['publish', 'subscribe'] : [input.action];
    if (input.username === PROVISIONING_USERNAME) {
      const ok = actions.every((a) => isTopicAllowedForProvisioning(input.clientid, input.topic, a)) && !input.retain;
      return { result: ok ? 'allow' : 'deny' };
    }
    // A device's username is its id; its client id must be the same, so one device cannot borrow another's session.
    const ok =
      isValidDeviceId(input.username) &&
      input.clientid === input.username &&
      actions.every((a) => isTopicAllowedForDevice(input.username, input.topic, a));
    return { result: ok ? 'allow' : 'deny' };
  }

  private checkSecret(given: string | undefined): void {
    const expected = this.settings.secret;
    if (!expected) {
      throw new DomainError('unauthorized', 'broker HTTP auth is off: set BROKER_AUTH_SECRET on the gateway and the same header in EMQX');
    }
    if (!given || !sameSecret(given, expected)) {
      throw new DomainError('unauthorized', `the ${BROKER_AUTH_HEADER} header is missing or wrong`);
    }
  }

  private deny(input: z.infer<typeof brokerAuthenticateBody>, reason: string): Verdict {
    this.authFailures.record({
      clientId: input.clientid,
      username: input.username || null,
      address: input.peerhost || null,
      reason,
      at: new Date(),
      source: 'broker-http-auth',
    });
    return { result: 'deny' };
  }
}
