import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';

/** What authentication needs of a live key: its hash and its tenant's state. */
export interface ApiKeyCredential {
  id: string;
  tenantId: string;
  keyHash: Buffer;
  isTenantDisabled: boolean;
}

/** The only code that reads or writes api_keys (authentication and tenant deletion ask it too). */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly repo: Repository<ApiKeyEntity>) {}

  create(values: Pick<ApiKeyEntity, 'tenantId' | 'label' | 'prefix' | 'keyHash'>): Promise<ApiKeyEntity> {
    return this.repo.save(this.repo.create(values));
  }

  listLive(tenantId: string, limit: number, offset: number): Promise<ApiKeyEntity[]> {
    return this.repo.find({
      where: { tenantId, revokedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  /** A live key (of a tenant not deleted) by its visible prefix, with its tenant's state. */
  async findLiveByPrefix(prefix: string): Promise<ApiKeyCredential | undefined> {
    const rows: { id: string; tenant_id: string; key_hash: Buffer; is_disabled: boolean }[] = await this.repo.query(
      `SELECT k.id, k.tenant_id, k.key_hash, t.is_disabled
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.prefix = $1 AND k.revoked_at IS NULL AND t.deleted_at IS NULL`,
      [prefix],
    );
    const row = rows[0];
    return row && { id: row.id, tenantId: row.tenant_id, keyHash: row.key_hash, isTenantDisabled: row.is_disabled };
  }

  /** Revokes every live key of the tenant, inside the caller's transaction (a tenant's deletion). */
  async revokeAllOfTenant(m: EntityManager, tenantId: string): Promise<void> {
    await m.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL`, [tenantId]);
  }

  /** Revokes a live key of that tenant; its prefix (what caches know it by), or undefined when there was none. */
  async revoke(tenantId: string, id: string): Promise<string | undefined> {
    const [rows]: [{ prefix: string }[], number] = await this.repo.query(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING prefix`,
      [id, tenantId],
    );
    return rows[0]?.prefix;
  }
}
