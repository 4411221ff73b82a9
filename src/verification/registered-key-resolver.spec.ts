import { generateKeyPairSync } from 'node:crypto';
import { CredentialChanges } from '../auth/credential-changes.service';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { RegisteredKeysService } from '../registered-keys/registered-keys.service';
import { TenantsService } from '../tenants/tenants.service';
import { REGISTERED_KEY_CACHE_TTL_MS, RegisteredKeyResolver, UNKNOWN_KID_LOOKUPS_PER_SECOND } from './registered-key-resolver';

const TENANT = '11111111-1111-4111-8111-111111111111';
const KID = 'k'.repeat(43);
const keyObject = generateKeyPairSync('ed25519').publicKey;
const kidNo = (i: number) => `r${String(i).padStart(42, '0')}`;

describe('RegisteredKeyResolver', () => {
  let nowMs: number;
  let findActiveKey: jest.Mock;
  let settings: jest.Mock;
  let resolver: RegisteredKeyResolver;
  let changes: CredentialChanges;
  let keyChanged: (kid: string) => void;

  beforeEach(() => {
    nowMs = 1_800_000_000_000;
    findActiveKey = jest.fn(async (kid: string) => (kid === KID ? { kid, tenantId: TENANT, algorithm: 'EdDSA', keyObject } : undefined));
    settings = jest.fn(async () => ({ id: TENANT, isDisabled: false, accessTokenMaxTtl: 600, registeredTokenMaxTtl: 300 }));
    changes = new CredentialChanges({ listen: jest.fn() } as never);
    resolver = new RegisteredKeyResolver(
      { findActiveKey, onKeyChanged: (listener: (kid: string) => void) => (keyChanged = listener) } as unknown as RegisteredKeysService,
      { settings } as unknown as TenantsService,
      { now: () => new Date(nowMs) } as Clock,
      changes,
    );
  });

  describe('resolve', () => {
    it('returns the key with its tenant’s registeredTokenMaxTtl', async () => {
      await expect(resolver.resolve(KID)).resolves.toEqual({
        kid: KID,
        tenantId: TENANT,
        algorithm: 'EdDSA',
        keyObject,
        registeredTokenMaxTtl: 300,
      });
    });

    it('refuses kids that cannot be an RFC 7638 thumbprint without a query', async () => {
      for (const kid of ['../../etc/passwd', "' OR 1=1 --", 'short', `${KID}x`, `${KID.slice(1)}=`]) {
        await expect(resolver.resolve(kid)).resolves.toBeUndefined();
      }
      expect(findActiveKey).not.toHaveBeenCalled();
    });

    it('caches found and missing keys for 5 s, then asks again (the backstop should a change not be heard of)', async () => {
      await resolver.resolve(KID);
      await resolver.resolve(kidNo(1));
      nowMs += REGISTERED_KEY_CACHE_TTL_MS;
      await resolver.resolve(KID);
      await resolver.resolve(kidNo(1));
      expect(findActiveKey).toHaveBeenCalledTimes(2);

      findActiveKey.mockResolvedValue(undefined); // the key was deleted
      nowMs += 1;
      await expect(resolver.resolve(KID)).resolves.toBeUndefined();
      expect(findActiveKey).toHaveBeenCalledTimes(3);
    });

    it('shares one query between concurrent look-ups of the same kid', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => resolver.resolve(KID)));
      expect(results.every((r) => r?.kid === KID)).toBe(true);
      expect(findActiveKey).toHaveBeenCalledTimes(1);
      expect(settings).toHaveBeenCalledTimes(1);
    });

    it('bounds queries for never-seen kids per second, while a known key keeps being looked up', async () => {
      await resolver.resolve(KID);
      for (let i = 0; i < UNKNOWN_KID_LOOKUPS_PER_SECOND * 3; i++) await resolver.resolve(kidNo(i));
      // The first look-up of KID (not yet known) counted against the same second's budget.
      expect(findActiveKey).toHaveBeenCalledTimes(UNKNOWN_KID_LOOKUPS_PER_SECOND);

      nowMs += REGISTERED_KEY_CACHE_TTL_MS + 1; // a new storm second; the known key's entry has expired
      for (let i = 0; i < UNKNOWN_KID_LOOKUPS_PER_SECOND * 2; i++) await resolver.resolve(kidNo(1000 + i));
      // Budget spent: an unknown kid gets no query, the known key still does.
      await expect(resolver.resolve(kidNo(5000))).resolves.toBeUndefined();
      await expect(resolver.resolve(KID)).resolves.toMatchObject({ kid: KID });
      expect(findActiveKey).toHaveBeenCalledTimes(2 * UNKNOWN_KID_LOOKUPS_PER_SECOND + 1);
    });

    it('treats a key whose tenant vanished between the two reads as unknown, and lets database errors through', async () => {
      settings.mockRejectedValueOnce(new AppException(ErrorCode.NOT_FOUND, 'Tenant not found'));
      await expect(resolver.resolve(KID)).resolves.toBeUndefined();
      nowMs += REGISTERED_KEY_CACHE_TTL_MS + 1;
      findActiveKey.mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      await expect(resolver.resolve(KID)).rejects.toThrow('ECONNREFUSED');
      await expect(resolver.resolve(KID)).resolves.toMatchObject({ kid: KID });
    });
  });

  describe('revocation', () => {
    const deleted = () => findActiveKey.mockResolvedValue(undefined);

    it('forgets a key deactivated or deleted on this replica before the next look-up, with the clock standing still', async () => {
      await expect(resolver.resolve(KID)).resolves.toMatchObject({ kid: KID });
      deleted();
      keyChanged(KID);
      await expect(resolver.resolve(KID)).resolves.toBeUndefined();
    });

    it('forgets a key another replica changed (NOTIFY), and every key when its tenant changed or notifications may have been missed', async () => {
      await resolver.resolve(KID);
      deleted();
      changes.received(JSON.stringify({ t: 'registered_key', tenantId: TENANT, kid: KID }));
      await expect(resolver.resolve(KID)).resolves.toBeUndefined();

      for (const change of [{ t: 'tenant', tenantId: TENANT }, { t: 'all' }, 'not json']) {
        const payload = typeof change === 'string' ? change : JSON.stringify(change);
        findActiveKey.mockImplementation(async (kid: string) => ({ kid, tenantId: TENANT, algorithm: 'EdDSA', keyObject }));
        changes.received(payload); // the negative answer cached before goes too
        await expect(resolver.resolve(KID)).resolves.toMatchObject({ kid: KID });
        deleted();
        changes.received(payload);
        await expect(resolver.resolve(KID)).resolves.toBeUndefined();
      }
    });

    it('never caches a look-up that was reading when the key changed: its callers read again', async () => {
      let finishRead!: () => void;
      const read = new Promise<void>((resolve) => (finishRead = resolve));
      findActiveKey.mockImplementationOnce(async (kid: string) => {
        await read;
        return { kid, tenantId: TENANT, algorithm: 'EdDSA', keyObject };
      });
      const racing = [resolver.resolve(KID), resolver.resolve(KID)];
      deleted();
      keyChanged(KID);
      finishRead();
      await expect(Promise.all(racing)).resolves.toEqual([undefined, undefined]);
      await expect(resolver.resolve(KID)).resolves.toBeUndefined();
    });
  });
});
