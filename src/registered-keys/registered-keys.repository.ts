import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { RegisteredKeyEntity } from './registered-key.entity';

export type NewRegisteredKey = Pick<RegisteredKeyEntity, 'kid' | 'tenantId' | 'label' | 'algorithm' | 'publicJwk' | 'fingerprint'>;

@Injectable()
export class RegisteredKeysRepository {
  constructor(@InjectRepository(RegisteredKeyEntity) private readonly repo: Repository<RegisteredKeyEntity>) {}

  /**
   * Inserts a key unless the tenant already has `cap` live keys; undefined when the cap is
   * reached. A per-tenant advisory lock serialises registrations, so two concurrent requests
   * cannot both pass the count. A kid already present (any tenant, even deleted) raises the
   * primary-key unique violation `registered_keys_pkey`.
   */
  insertWithinCap(values: NewRegisteredKey, cap: number): Promise<RegisteredKeyEntity | undefined> {
    return this.repo.manager.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('registered_keys:' || $1, 0))`, [values.tenantId]);
      const live = await m.count(RegisteredKeyEntity, { where: { tenantId: values.tenantId, deletedAt: IsNull() } });
      if (live >= cap) return undefined;
      // insert(), not save(): save() would look the kid up and turn a duplicate into an UPDATE.
      await m.insert(RegisteredKeyEntity, values);
      return m.findOneByOrFail(RegisteredKeyEntity, { kid: values.kid });
    });
  }

  listLive(tenantId: string, limit: number, offset: number): Promise<RegisteredKeyEntity[]> {
    return this.repo.find({
      where: { tenantId, deletedAt: IsNull() },
      order: { createdAt: 'ASC', kid: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  findLive(tenantId: string, kid: string): Promise<RegisteredKeyEntity | null> {
    return this.repo.findOneBy({ tenantId, kid, deletedAt: IsNull() });
  }

  /** Updates a live key of that tenant; null when there is none. */
  async update(tenantId: string, kid: string, values: Partial<Pick<RegisteredKeyEntity, 'label' | 'isActive'>>): Promise<RegisteredKeyEntity | null> {
    if (Object.keys(values).length > 0) await this.repo.update({ tenantId, kid, deletedAt: IsNull() }, values);
    return this.findLive(tenantId, kid);
  }

  /** Soft-deletes a live key of that tenant; false when there was none. */
  async softDelete(tenantId: string, kid: string): Promise<boolean> {
    const result = await this.repo.update({ tenantId, kid, deletedAt: IsNull() }, { deletedAt: () => 'now()', isActive: false });
    return (result.affected ?? 0) > 0;
  }

  /** The tenant's keys that verify tokens: active and not deleted, oldest first. */
  listActive(tenantId: string): Promise<RegisteredKeyEntity[]> {
    return this.repo.find({ where: { tenantId, isActive: true, deletedAt: IsNull() }, order: { createdAt: 'ASC', kid: 'ASC' } });
  }

  /** An active key by kid, provided its tenant is live and enabled (the tenant is always the key's). */
  findActiveByKid(kid: string): Promise<RegisteredKeyEntity | null> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.kid = :kid AND k.is_active AND k.deleted_at IS NULL', { kid })
      .andWhere('EXISTS (SELECT 1 FROM tenants t WHERE t.id = k.tenant_id AND t.deleted_at IS NULL AND NOT t.is_disabled)')
      .getOne();
  }
}
