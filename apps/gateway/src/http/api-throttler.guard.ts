import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { rateLimitKey, rateLimited, trackerOf } from './api-rate-limit';
import { PUBLIC_KEY } from './roles';
import { TokenAuthenticator } from './token-authenticator';

/**
 * The admin API's rate limit (@nestjs/throttler), installed globally before
 * the auth guard so that calls with a bad token or none are counted (and
 * refused with 429 once too many) before they are refused with 401. One
 * allowance per caller across all routes. HTTP only: device MQTT traffic and
 * @Public() routes (health) are not limited. In memory, so each replica counts
 * on its own.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
    @Inject(TokenAuthenticator) private readonly authenticator: TokenAuthenticator,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return Promise.resolve(true);
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    return Promise.resolve(isPublic === true);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const identity = await this.authenticator.identifyRequest(req as { headers: { authorization?: string } });
    return trackerOf(identity, identity.actor ? undefined : await super.getTracker(req));
  }

  /** The same key for every route: the allowance is per caller, not per caller and route. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return rateLimitKey(throttlerName, tracker);
  }

  /** The guard has set `Retry-After` already; the API error filter answers 429 in our error shape. */
  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    return Promise.reject(rateLimited(detail.timeToBlockExpire));
  }
}
