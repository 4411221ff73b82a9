import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { TenantEntity } from './tenant.entity';

@Injectable()
export class TenantsRepository {
  constructor(@InjectRepository(TenantEntity) private readonly repo: Repository<TenantEntity>) {}

  create(values: Pick<TenantEntity, 'name'> & Partial<TenantEntity>): Promise<TenantEntity> {
    return this.repo.save(this.repo.create(values));
  }

  findLive(id: string): Promise<TenantEntity | null> {
    return this.repo.findOneBy({ id, deletedAt: IsNull() });
  }

  listLive(limit: number, offset: number): Promise<TenantEntity[]> {
    return this.repo.find({ where: { deletedAt: IsNull() }, order: { createdAt: 'ASC', id: 'ASC' }, take: limit, skip: offset });
  }

  async update(id: string, values: Partial<TenantEntity>): Promise<TenantEntity | null> {
    await this.repo.update({ id, deletedAt: IsNull() }, values);
    return this.findLive(id);
  }

  /**
   * Soft delete in one transaction: the tenant is disabled and marked deleted, and `cascade`
   * runs in the same transaction (its API keys are revoked). Returns false when there was no
   * live tenant.
   */
  softDelete(id: string, cascade: (m: EntityManager) => Promise<void>): Promise<boolean> {
    return this.repo.manager.transaction(async (m) => {
      const [, count] = await m.query(
        `UPDATE tenants SET deleted_at = now(), is_disabled = true, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
        [id],
      );
      if (count === 0) return false;
      await cascade(m);
      return true;
    });
  }
}
