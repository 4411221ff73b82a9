import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import { CacheLoader, fetchCurrent, loadingCache } from '../auth/cache-fetch';
import { CredentialChanges } from '../auth/credential-changes.service';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { CreateTenantDto } from './dto/create-tenant.dto';
import { TenantResponseDto } from './dto/tenant-response.dto';
import { UpdateTenantDto } from './dto/update-tenant.dto';
import { TenantEntity } from './tenant.entity';
import { TenantsRepository } from './tenants.repository';

/** Settings other modules need about a live tenant. */
export interface TenantSettings {
  id: string;
  isDisabled: boolean;
  accessTokenMaxTtl: number;
  registeredTokenMaxTtl: number;
  /** Tokens for this tenant are issued DPoP-bound only. */
  requireDpop: boolean;
}

/**
 * How long a replica reuses a tenant's settings on the token paths. A change made here is
 * seen at once; one made on another replica within a second, through CredentialChanges
 * (a trigger on `tenants` notifies); this time is the backstop. Whether a tenant is disabled
 * is not taken from this cache where it decides access with a credential: API keys, clients
 * and the denylist read it with the credential (or through NOTIFY).
 */
export const SETTINGS_CACHE_TTL_MS = 1000;
export const SETTINGS_CACHE_MAX = 10_000;

@Injectable()
export class TenantsService {
  private readonly settingsCache: LRUCache<string, TenantSettings, CacheLoader<TenantSettings>>;

  constructor(
    private readonly repository: TenantsRepository,
    private readonly changes: CredentialChanges,
    clock: Clock,
    private readonly apiKeys: ApiKeysRepository,
  ) {
    this.settingsCache = loadingCache<TenantSettings>({ max: SETTINGS_CACHE_MAX, ttlMs: SETTINGS_CACHE_TTL_MS, clock });
    changes.subscribe((change) => {
      if (change.t === 'tenant') this.settingsCache.delete(change.tenantId);
      else if (change.t === 'all') this.settingsCache.clear();
    });
  }

  async create(dto: CreateTenantDto): Promise<TenantResponseDto> {
    try {
      return this.map(await this.repository.create(dto));
    } catch (error) {
      throw this.conflictOr(error, dto.name);
    }
  }

  async list(limit: number, offset: number): Promise<TenantResponseDto[]> {
    return (await this.repository.listLive(limit, offset)).map((t) => this.map(t));
  }

  async get(id: string): Promise<TenantResponseDto> {
    return this.map(await this.findOrThrow(id));
  }

  /**
   * A live (not deleted) tenant, or 404. Disabled tenants are returned; callers decide.
   * Cached for SETTINGS_CACHE_TTL_MS: issuing a token should not cost a round trip for them.
   */
  async settings(id: string): Promise<TenantSettings> {
    const settings = await fetchCurrent(this.settingsCache, id, async () => {
      const t = await this.findOrThrow(id);
      return {
        id: t.id,
        isDisabled: t.isDisabled,
        accessTokenMaxTtl: t.accessTokenMaxTtl,
        registeredTokenMaxTtl: t.registeredTokenMaxTtl,
        requireDpop: t.requireDpop,
      };
    });
    return settings!;
  }

  async update(id: string, dto: UpdateTenantDto): Promise<TenantResponseDto> {
    const { disabled, ...rest } = dto;
    try {
      const updated = await this.repository.update(id, { ...rest, ...(disabled === undefined ? {} : { isDisabled: disabled }) });
      this.forgetCached(id, updated ? updated.isDisabled : undefined);
      if (!updated) throw new AppException(ErrorCode.NOT_FOUND, 'Tenant not found');
      return this.map(updated);
    } catch (error) {
      throw this.conflictOr(error, dto.name);
    }
  }

  async remove(id: string): Promise<void> {
    // The tenant's API keys are revoked in the deletion's transaction (api_keys has one repository: the api-keys feature's).
    const removed = await this.repository.softDelete(id, (m) => this.apiKeys.revokeAllOfTenant(m, id));
    this.forgetCached(id, removed ? true : undefined);
    if (!removed) throw new AppException(ErrorCode.NOT_FOUND, 'Tenant not found');
  }

  /**
   * After a change is committed: every cache on this replica (settings, API keys, clients,
   * registered keys) forgets the tenant before the request answers, and a load that read
   * before the commit is not kept; `blocked` (the committed state) reaches the denylist, which
   * is all Tessera's own tokens are checked against. Other replicas hear it through NOTIFY.
   */
  private forgetCached(id: string, blocked?: boolean): void {
    this.changes.published({ t: 'tenant', tenantId: id, ...(blocked === undefined ? {} : { blocked }) });
  }

  private async findOrThrow(id: string): Promise<TenantEntity> {
    const tenant = await this.repository.findLive(id);
    if (!tenant) throw new AppException(ErrorCode.NOT_FOUND, 'Tenant not found');
    return tenant;
  }

  private conflictOr(error: unknown, name?: string): unknown {
    return isUniqueViolation(error, 'tenants_name_live_uq')
      ? new AppException(ErrorCode.CONFLICT, `A tenant named "${name}" already exists`)
      : error;
  }

  private map(t: TenantEntity): TenantResponseDto {
    return {
      id: t.id,
      name: t.name,
      disabled: t.isDisabled,
      accessTokenMaxTtl: t.accessTokenMaxTtl,
      registeredTokenMaxTtl: t.registeredTokenMaxTtl,
      requireDpop: t.requireDpop,
      createdAt: t.createdAt.toISOString(),
    };
  }
}
