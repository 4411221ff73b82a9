import { CredentialChanges } from '../auth/credential-changes.service';
import { Clock } from '../common/clock';
import { Scheduler } from '../common/scheduling/scheduler';
import { AppConfig } from '../config/app-config';
import type { NotificationsService } from '../database/notifications.service';
import type { MetricsService } from '../observability/metrics.service';
import { DenylistService } from './denylist.service';
import { DenylistSnapshot, RevocationRepository } from './revocation.repository';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const NOW = 1_800_000_000;

function setup(snapshot: DenylistSnapshot = { jtis: [], cutoffs: [], blockedTenants: [] }) {
  let now = NOW;
  const clock = { now: () => new Date(now * 1000), nowSeconds: () => now } as Clock;
  let release: (() => void) | undefined;
  const repository = {
    loadLive: jest.fn(async () => {
      if (release === undefined) return snapshot;
      await new Promise<void>((r) => (release = r));
      return snapshot;
    }),
  } as unknown as RevocationRepository;
  const metrics = { observeRevocationPropagation: jest.fn() } as unknown as MetricsService;
  const service = new DenylistService(
    repository,
    clock,
    { denylistReloadIntervalSeconds: 60 } as AppConfig,
    { isListening: () => false } as unknown as NotificationsService,
    metrics,
    new Scheduler(),
    { subscribe: () => undefined } as unknown as CredentialChanges,
  );
  return {
    service,
    setNow: (s: number) => (now = s),
    /** Makes the next loadLive wait until the returned function is called. */
    holdNextLoad: () => {
      release = () => undefined;
      return () => release!();
    },
  };
}

describe('DenylistService', () => {
  describe('isRevoked', () => {
    it('answers for revoked jtis until they expire, then forgets them', async () => {
      const { service, setNow } = setup({ jtis: [[T1, 'j1', NOW + 10]], cutoffs: [], blockedTenants: [] });
      await service.reload();
      expect(service.isRevoked({ tenantId: T1, jti: 'j1' })).toBe(true);
      expect(service.isRevoked({ tenantId: T2, jti: 'j1' })).toBe(false);
      expect(service.isRevoked({ tenantId: T1, jti: 'j2' })).toBe(false);
      setNow(NOW + 10);
      expect(service.isRevoked({ tenantId: T1, jti: 'j1' })).toBe(false);
      expect(service.stats().jtis).toBe(0);
    });

    it('revokes a subject’s tokens with iat up to and including the cut-off second, and those without iat', async () => {
      const { service } = setup({ jtis: [], cutoffs: [[T1, 'alice', NOW - 5, NOW + 100]], blockedTenants: [] });
      await service.reload();
      expect(service.isRevoked({ tenantId: T1, sub: 'alice', iat: NOW - 6 })).toBe(true);
      expect(service.isRevoked({ tenantId: T1, sub: 'alice', iat: NOW - 5 })).toBe(true);
      expect(service.isRevoked({ tenantId: T1, sub: 'alice', iat: NOW - 4 })).toBe(false);
      expect(service.isRevoked({ tenantId: T1, sub: 'alice' })).toBe(true);
      expect(service.isRevoked({ tenantId: T1, sub: 'bob', iat: NOW - 6 })).toBe(false);
    });

    it('revokes everything of a blocked tenant', async () => {
      const { service } = setup({ jtis: [], cutoffs: [], blockedTenants: [T2] });
      await service.reload();
      expect(service.isRevoked({ tenantId: T2 })).toBe(true);
      service.apply({ t: 'tenant', tenantId: T2, blocked: false });
      expect(service.isRevoked({ tenantId: T2 })).toBe(false);
    });
  });

  describe('apply', () => {
    it('only moves a cut-off forward and only extends a jti', () => {
      const { service } = setup();
      service.apply({ t: 'sub', tenantId: T1, sub: 's', nbf: NOW, exp: NOW + 100 });
      service.apply({ t: 'sub', tenantId: T1, sub: 's', nbf: NOW - 50, exp: NOW + 50 });
      expect(service.isRevoked({ tenantId: T1, sub: 's', iat: NOW })).toBe(true);
      service.apply({ t: 'jti', tenantId: T1, jti: 'j', exp: NOW + 100 });
      service.apply({ t: 'jti', tenantId: T1, jti: 'j', exp: NOW + 1 });
      expect(service.isRevoked({ tenantId: T1, jti: 'j' })).toBe(true);
    });
  });

  describe('reload', () => {
    it('keeps changes that arrive while the snapshot is being read', async () => {
      const { service, holdNextLoad } = setup({ jtis: [[T1, 'old', NOW + 100]], cutoffs: [], blockedTenants: [] });
      const release = holdNextLoad();
      const reloading = service.reload();
      await Promise.resolve();
      service.apply({ t: 'jti', tenantId: T1, jti: 'during', exp: NOW + 100 });
      release();
      await reloading;
      expect(service.isRevoked({ tenantId: T1, jti: 'old' })).toBe(true);
      expect(service.isRevoked({ tenantId: T1, jti: 'during' })).toBe(true);
    });
  });
});
