import { AuditRepository } from './audit.repository';
import { AuditService, withoutCredentials } from './audit.service';

describe('AuditService', () => {
  describe('record', () => {
    it('appends the event and drops members named like credentials, at any depth', async () => {
      const append = jest.fn().mockResolvedValue(undefined);
      const service = new AuditService({ append } as unknown as AuditRepository);
      await service.record({
        tenantId: 't1',
        type: 'refresh_token.reuse_detected',
        actor: 'client:c1',
        subject: 'user-1',
        details: { familyId: 'f1', refresh_token: 'trt_x', nested: { clientSecret: 's', reason: 'reuse' } },
      });
      expect(append).toHaveBeenCalledWith({
        tenantId: 't1',
        type: 'refresh_token.reuse_detected',
        actor: 'client:c1',
        subject: 'user-1',
        details: { familyId: 'f1', nested: { reason: 'reuse' } },
        requestId: null,
      });
    });
  });

  describe('withoutCredentials', () => {
    it('keeps ids and arrays', () => {
      expect(withoutCredentials({ apiKeyId: 'k', scopes: ['a'], Token: 'x', KEY: 'y' })).toEqual({ apiKeyId: 'k', scopes: ['a'] });
    });
  });

  describe('listForTenant', () => {
    const row = {
      id: 'e1',
      tenantId: 't1',
      type: 'api_key.created',
      actor: 'admin',
      subject: 'k1',
      details: {},
      requestId: null,
      createdAt: new Date('2026-01-02T03:04:05Z'),
    };

    it('maps rows without asking whether the tenant exists', async () => {
      const repository = { list: jest.fn().mockResolvedValue([row]), tenantExists: jest.fn() };
      const service = new AuditService(repository as unknown as AuditRepository);
      await expect(service.listForTenant('t1', { type: 'api_key.created', limit: 10, offset: 0 })).resolves.toEqual([
        { ...row, createdAt: '2026-01-02T03:04:05.000Z' },
      ]);
      expect(repository.list).toHaveBeenCalledWith({ tenantId: 't1', type: 'api_key.created', limit: 10, offset: 0 });
      expect(repository.tenantExists).not.toHaveBeenCalled();
    });

    it('answers an empty page for a tenant without events, and NOT_FOUND for a tenant that never existed', async () => {
      const repository = {
        list: jest.fn().mockResolvedValue([]),
        tenantExists: jest.fn().mockResolvedValueOnce(true).mockResolvedValueOnce(false),
      };
      const service = new AuditService(repository as unknown as AuditRepository);
      await expect(service.listForTenant('t1', { limit: 10, offset: 0 })).resolves.toEqual([]);
      await expect(service.listForTenant('t2', { limit: 10, offset: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});
