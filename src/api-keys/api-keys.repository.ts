import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';

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

  /** Revokes a live key of that tenant; its prefix (what caches know it by), or undefined when there was none. */
  async revoke(tenantId: string, id: string): Promise<string | undefined> {
    const [rows]: [{ prefix: string }[], number] = await this.repo.query(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING prefix`,
      [id, tenantId],
    );
    return rows[0]?.prefix;
  }
}
