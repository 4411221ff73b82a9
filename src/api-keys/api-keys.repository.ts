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

  /** Revokes a live key of that tenant; false when there was none. */
  async revoke(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo.update({ id, tenantId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return (result.affected ?? 0) > 0;
  }
}
