import { REDACTED, auditBefore, auditEntryFor, describeAuditEntity, singular, takeAuditBefore, toAuditJson } from './audit-entry';

describe('describeAuditEntity', () => {
  it('takes a created record from the answer', () => {
    expect(describeAuditEntity('/api/v1/residents', {}, { id: 'r-1', name: '张三' })).toEqual({ entityType: 'resident', entityId: 'r-1' });
    expect(describeAuditEntity('/api/v1/communities', {}, { id: 'c-1' })).toEqual({ entityType: 'community', entityId: 'c-1' });
  });

  it('takes a changed record from the route parameter', () => {
    expect(describeAuditEntity('/api/v1/devices/:id', { id: 'bin-7' }, { id: 'bin-7', isActive: false })).toEqual({
      entityType: 'device',
      entityId: 'bin-7',
    });
    expect(describeAuditEntity('/api/v1/staff/:id/tokens/:tokenId', { id: 'u-1', tokenId: 't-1' }, { revokedAt: 'x' })).toEqual({
      entityType: 'token',
      entityId: 't-1',
    });
  });

  it('takes the parent of a sub-resource when the answer has no id', () => {
    expect(describeAuditEntity('/api/v1/residents/:id/cards', { id: 'r-1' }, { uid: '04A1B2C3' })).toEqual({
      entityType: 'resident',
      entityId: 'r-1',
    });
  });

  it('names the entity without an id when there is none', () => {
    expect(describeAuditEntity('/api/v1/ledger/pending/settle', {}, { settled: 3 })).toEqual({ entityType: 'settle', entityId: null });
  });
});

describe('singular', () => {
  it.each([
    ['communities', 'community'],
    ['residents', 'resident'],
    ['dead-letters', 'dead-letter'],
    ['staff', 'staff'],
    ['address', 'address'],
  ])('%s -> %s', (plural, one) => {
    expect(singular(plural)).toBe(one);
  });
});

describe('toAuditJson', () => {
  it('keeps what the client received, as JSON', () => {
    expect(toAuditJson({ at: new Date('2026-11-23T08:00:00.000Z'), n: 1, gone: undefined })).toEqual({
      at: '2026-11-23T08:00:00.000Z',
      n: 1,
    });
    expect(toAuditJson(undefined)).toBeNull();
  });

  it('never stores a device password or an API token shown once', () => {
    const stored = toAuditJson({
      id: 'bin-1',
      mqtt: { username: 'bin-1', password: 'pw-secret' },
      token: 'jfs_secret',
      tokens: [{ id: 't-1', label: 'api' }],
    });
    expect(stored).toEqual({
      id: 'bin-1',
      mqtt: { username: 'bin-1', password: REDACTED },
      token: REDACTED,
      tokens: [{ id: 't-1', label: 'api' }],
    });
    expect(JSON.stringify(stored)).not.toContain('secret');
  });
});

describe('auditEntryFor', () => {
  it('records who, the route pattern, the entity, and before and after', () => {
    const req = {};
    auditBefore(req, { id: 'u-1', role: 'clerk', isActive: true });
    const entry = auditEntryFor(
      { method: 'patch', routePattern: '/api/v1/staff/:id', params: { id: 'u-1' }, actorLabel: 'staff:bootstrap' },
      takeAuditBefore(req),
      { id: 'u-1', role: 'clerk', isActive: false },
    );
    expect(entry).toEqual({
      actor: 'staff:bootstrap',
      action: 'PATCH /api/v1/staff/:id',
      entityType: 'staff',
      entityId: 'u-1',
      before: { id: 'u-1', role: 'clerk', isActive: true },
      after: { id: 'u-1', role: 'clerk', isActive: false },
    });
  });

  it('has no before when the handler set none', () => {
    const entry = auditEntryFor({ method: 'POST', routePattern: '/api/v1/residents', params: {}, actorLabel: null }, takeAuditBefore({}), {
      id: 'r-9',
    });
    expect(entry).toMatchObject({ actor: 'anonymous', before: null, after: { id: 'r-9' }, entityId: 'r-9' });
  });
});
