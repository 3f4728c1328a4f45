import { type ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Request } from 'express';

/**
 * Staff roles (shared/DOMAIN.md, "The people"). Every endpoint names the roles
 * that need it with @Roles(...); `admin` may do everything.
 */
export const STAFF_ROLES = ['admin', 'credit_admin', 'credit_collector', 'clerk', 'operator', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const ROLES_KEY = 'jifen:roles';

/**
 * The roles allowed to call a handler (or every handler of a controller). The
 * OpenAPI document shows them as `x-roles` on each operation.
 */
export const Roles = (...roles: StaffRole[]) => applyDecorators(SetMetadata(ROLES_KEY, roles), ApiExtension('x-roles', roles));

export const PUBLIC_KEY = 'jifen:public';

/** No token needed (health checks). Everything else needs one, and @Roles. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Who is calling: set by the auth guard on every authenticated request. */
export interface Actor {
  /** Staff user id, or `bootstrap` for the admin token made at first start. */
  userId: string;
  name: string;
  role: StaffRole;
  /** `staff:<name>`: what ledger entries and audit records show as "who". */
  label: string;
  /**
   * The one community this staff member works for, or null for district staff
   * (and the bootstrap admin). Each endpoint that touches a community's data
   * checks it.
   */
  communityId: string | null;
}

export type RequestWithActor = Request & { actor?: Actor };

/** The authenticated actor of this request (a handler param decorator). */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<RequestWithActor>().actor;
  if (!actor) throw new Error('CurrentActor used on a route without the auth guard');
  return actor;
});
