import { decideAccess } from './access-policy';
import type { StaffRole } from './roles';

// roles.ts loads Nest, which jest cannot; the same list as STAFF_ROLES without admin.
const STAFF_BUT_ADMIN: StaffRole[] = ['credit_admin', 'credit_collector', 'clerk', 'operator', 'auditor'];

describe('decideAccess', () => {
  it('lets admin call anything, even an endpoint without @Roles', () => {
    expect(decideAccess('admin', 'DELETE', undefined)).toEqual({ isAllowed: true });
    expect(decideAccess('admin', 'POST', ['clerk'])).toEqual({ isAllowed: true });
  });

  it.each(STAFF_BUT_ADMIN)('refuses %s on an endpoint without @Roles', (role) => {
    expect(decideAccess(role, 'GET', undefined).isAllowed).toBe(false);
  });

  it('lets a role named in @Roles call the endpoint and refuses the others, saying what to do', () => {
    expect(decideAccess('operator', 'PATCH', ['admin', 'operator'])).toEqual({ isAllowed: true });
    const refused = decideAccess('clerk', 'PATCH', ['admin', 'operator']);
    expect(refused).toEqual({
      isAllowed: false,
      message: expect.stringContaining('your role (clerk) may not do this; ask an administrator'),
    });
  });

  it('lets an auditor read where @Roles names auditor, and never write, even if @Roles names auditor', () => {
    expect(decideAccess('auditor', 'GET', ['admin', 'auditor'])).toEqual({ isAllowed: true });
    expect(decideAccess('auditor', 'GET', ['admin', 'clerk']).isAllowed).toBe(false);
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) {
      const decision = decideAccess('auditor', method, ['admin', 'auditor']);
      expect(decision).toEqual({ isAllowed: false, message: expect.stringContaining('change nothing') });
    }
  });
});
