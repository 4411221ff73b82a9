import { Injectable } from '@nestjs/common';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import { AppConfig } from '../config/app-config';
import { apiKeyPrefix, hashSecret, secretMatches } from './api-key-format';
import { Caller } from './caller';
import { CredentialCache } from './credential-cache';
import { CredentialFailureLimiter } from './credential-failure-limiter';

/** Why an `X-Api-Key` was not accepted; each caller answers it in its own error shape. */
export type ApiKeyRefusal = 'missing' | 'unknown' | 'tenant_disabled';

export type ApiKeyAuthentication = { caller: Caller; refusal?: undefined } | { caller?: undefined; refusal: ApiKeyRefusal };

/**
 * Resolves an `X-Api-Key` to the admin or to a tenant: the one place that does, for ApiKeyGuard
 * (the /v1 API) and for /oauth/introspect and /oauth/revoke (TenantCallerAuthenticator). Only a
 * key found live is cached (CredentialCache). Repeated failures from one IP are refused with
 * RATE_LIMITED (thrown: both callers answer it as 429).
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly adminKeyHash: Buffer;

  constructor(
    private readonly apiKeys: ApiKeysRepository,
    private readonly cache: CredentialCache,
    private readonly limiter: CredentialFailureLimiter,
    config: AppConfig,
  ) {
    this.adminKeyHash = hashSecret(config.adminApiKey);
  }

  async authenticate(header: string | string[] | undefined, ip: string): Promise<ApiKeyAuthentication> {
    const presented = Array.isArray(header) ? header[0] : header;
    if (!presented) return { refusal: 'missing' };
    this.limiter.assertAllowed(ip);

    if (secretMatches(presented, this.adminKeyHash)) return { caller: { kind: 'admin' } };
    const prefix = apiKeyPrefix(presented);
    const credential = prefix ? await this.cache.get('api-key', prefix, () => this.apiKeys.findLiveByPrefix(prefix)) : undefined;
    if (!credential || !secretMatches(presented, credential.keyHash)) {
      this.limiter.recordFailure(ip);
      return { refusal: 'unknown' };
    }
    if (credential.isTenantDisabled) return { refusal: 'tenant_disabled' };
    return { caller: { kind: 'tenant', tenantId: credential.tenantId, apiKeyId: credential.id } };
  }
}
