import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CredentialCache } from './credential-cache';

export interface ApiKeyCredential {
  id: string;
  tenantId: string;
  keyHash: Buffer;
  isTenantDisabled: boolean;
}

/** Read-only lookup of a live API key by its visible prefix, with its tenant's state (cached briefly, see CredentialCache). */
@Injectable()
export class ApiKeyAuthRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cache: CredentialCache,
  ) {}

  findLiveByPrefix(prefix: string): Promise<ApiKeyCredential | undefined> {
    return this.cache.get('api-key', prefix, () => this.queryLiveByPrefix(prefix));
  }

  private async queryLiveByPrefix(prefix: string): Promise<ApiKeyCredential | undefined> {
    const rows: { id: string; tenant_id: string; key_hash: Buffer; is_disabled: boolean }[] = await this.dataSource.query(
      `SELECT k.id, k.tenant_id, k.key_hash, t.is_disabled
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.prefix = $1 AND k.revoked_at IS NULL AND t.deleted_at IS NULL`,
      [prefix],
    );
    const row = rows[0];
    return row && { id: row.id, tenantId: row.tenant_id, keyHash: row.key_hash, isTenantDisabled: row.is_disabled };
  }
}
