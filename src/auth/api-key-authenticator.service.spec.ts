import type { ApiKeyCredential, ApiKeysRepository } from '../api-keys/api-keys.repository';
import type { AppConfig } from '../config/app-config';
import { ApiKeyAuthenticator } from './api-key-authenticator.service';
import { generateApiKey } from './api-key-format';
import type { CredentialCache } from './credential-cache';
import type { CredentialFailureLimiter } from './credential-failure-limiter';

const ADMIN_KEY = 'admin-key-of-at-least-thirty-two-characters';
const TENANT = '11111111-1111-4111-8111-111111111111';

function setup(found?: Partial<ApiKeyCredential>) {
  const key = generateApiKey();
  const credential = found && { id: 'key-1', tenantId: TENANT, keyHash: key.hash, isTenantDisabled: false, ...found };
  const findLiveByPrefix = jest.fn().mockResolvedValue(credential);
  const limiter = { assertAllowed: jest.fn(), recordFailure: jest.fn() };
  const cache = { get: (_kind: string, _id: string, load: () => Promise<unknown>) => load() };
  const authenticator = new ApiKeyAuthenticator(
    { findLiveByPrefix } as unknown as ApiKeysRepository,
    cache as unknown as CredentialCache,
    limiter as unknown as CredentialFailureLimiter,
    { adminApiKey: ADMIN_KEY } as AppConfig,
  );
  return { authenticator, key: key.key, findLiveByPrefix, limiter };
}

describe('ApiKeyAuthenticator', () => {
  it('resolves the admin key and a live tenant key', async () => {
    const { authenticator, key } = setup({});
    await expect(authenticator.authenticate(ADMIN_KEY, '192.0.2.1')).resolves.toEqual({ caller: { kind: 'admin' } });
    await expect(authenticator.authenticate(key, '192.0.2.1')).resolves.toEqual({
      caller: { kind: 'tenant', tenantId: TENANT, apiKeyId: 'key-1' },
    });
  });

  it('refuses a missing key without counting a failure', async () => {
    const { authenticator, limiter } = setup();
    await expect(authenticator.authenticate(undefined, '192.0.2.1')).resolves.toEqual({ refusal: 'missing' });
    await expect(authenticator.authenticate('', '192.0.2.1')).resolves.toEqual({ refusal: 'missing' });
    expect(limiter.recordFailure).not.toHaveBeenCalled();
  });

  it('refuses an unknown, malformed or wrong key and counts the failure against the IP', async () => {
    const { authenticator, key, limiter, findLiveByPrefix } = setup({});
    await expect(authenticator.authenticate(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, '192.0.2.7')).resolves.toEqual({
      refusal: 'unknown',
    });
    await expect(authenticator.authenticate('not-a-key', '192.0.2.7')).resolves.toEqual({ refusal: 'unknown' });
    expect(limiter.recordFailure).toHaveBeenCalledTimes(2);
    expect(limiter.recordFailure).toHaveBeenCalledWith('192.0.2.7');
    // A malformed key never reaches the database.
    expect(findLiveByPrefix).toHaveBeenCalledTimes(1);
  });

  it('refuses a key of a disabled tenant as tenant_disabled (not a failed guess)', async () => {
    const { authenticator, key, limiter } = setup({ isTenantDisabled: true });
    await expect(authenticator.authenticate(key, '192.0.2.1')).resolves.toEqual({ refusal: 'tenant_disabled' });
    expect(limiter.recordFailure).not.toHaveBeenCalled();
  });

  it('asks the failure limiter before looking at a presented key (RATE_LIMITED is thrown)', async () => {
    const { authenticator, limiter, findLiveByPrefix, key } = setup({});
    limiter.assertAllowed.mockImplementation(() => {
      throw new Error('rate limited');
    });
    await expect(authenticator.authenticate(key, '192.0.2.1')).rejects.toThrow('rate limited');
    expect(findLiveByPrefix).not.toHaveBeenCalled();
  });

  it('reads the first value of a repeated header', async () => {
    const { authenticator } = setup();
    await expect(authenticator.authenticate([ADMIN_KEY, 'other'], '192.0.2.1')).resolves.toEqual({ caller: { kind: 'admin' } });
  });
});
