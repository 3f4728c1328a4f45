import type { StaffRole } from './roles';

export type AccessDecision = { isAllowed: true } | { isAllowed: false; message: string };

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Who may call an endpoint, from its @Roles: admin may do everything; an
 * endpoint without @Roles is admin's only; an auditor reads (GET) and changes
 * nothing, even where @Roles names 'auditor' on a write.
 */
export function decideAccess(role: StaffRole, method: string, allowed: readonly StaffRole[] | undefined): AccessDecision {
  if (role === 'admin') return { isAllowed: true };
  if (role === 'auditor' && !READ_METHODS.has(method.toUpperCase())) {
    return { isAllowed: false, message: 'an auditor may read everything but change nothing; ask an administrator to make this change' };
  }
  if (allowed?.includes(role)) return { isAllowed: true };
  return {
    isAllowed: false,
    message: `your role (${role}) may not do this; ask an administrator to do it, or to give you a role that may`,
  };
}
