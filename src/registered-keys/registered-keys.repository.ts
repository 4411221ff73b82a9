import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { RegisteredKeyEntity } from './registered-key.entity';

export type NewRegisteredKey = Pick<
  RegisteredKeyEntity,
  'kid' | 'tenantId' | 'label' | 'algorithm' | 'publicJwk' | 'fingerprint' | 'proven'
>;

/** An unproven registration of another tenant that a proven one took over. */
export interface DisplacedKey {
  tenantId: string;
  /** It was live (not deleted by its tenant) until now. */
  wasLive: boolean;
}

export type InsertOutcome = { row: RegisteredKeyEntity; displaced: DisplacedKey[] } | 'cap_reached' | 'signing_key';

/** Who else has a row for a kid, for the wording of a 409. */
export interface KidHolders {
  /** This tenant's own row (any state). */
  own?: { deleted: boolean; displaced: boolean };
  /** Another tenant proved the key. */
  provenElsewhere: boolean;
}

@Injectable()
export class RegisteredKeysRepository {
  constructor(@InjectRepository(RegisteredKeyEntity) private readonly repo: Repository<RegisteredKeyEntity>) {}

  /**
   * Inserts a key unless the tenant already has `cap` live keys. Two advisory locks, always
   * in this order: the kid's (serialises every registration of one key, so a proven
   * registration and an unproven one cannot race past each other) and the tenant's (so two
   * concurrent requests cannot both pass the count).
   *
   * A proven key first displaces every other tenant's unproven row for the kid (soft-deleted,
   * inactive, `displaced_at` set): the real holder can never be locked out. Unique violations
   * roll all of it back:
   * - `registered_keys_pkey` (tenant_id, kid): this tenant already has the key, even deleted;
   * - `registered_keys_kid_holder_uq`: another tenant holds it (proven, or unproven and this one is unproven too);
   * - `registered_keys_kid_proven_uq`: another tenant proved it (even if deleted since).
   */
  insertWithinCap(values: NewRegisteredKey, cap: number): Promise<InsertOutcome> {
    return this.repo.manager.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('registered_key_kid:' || $1, 0))`, [values.kid]);
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('registered_keys:' || $1, 0))`, [values.tenantId]);
      // Tessera's own signing keys (any status: a retired one must never verify again) are public in its JWKS, but no
      // tenant holds their private half: registered, one would be republished in the tenant's JWKS and, once retired,
      // keep verifying tokens as that tenant's.
      const [own] = (await m.query(`SELECT 1 FROM signing_keys WHERE kid = $1`, [values.kid])) as unknown[];
      if (own) return 'signing_key';
      const live = await m.count(RegisteredKeyEntity, { where: { tenantId: values.tenantId, deletedAt: IsNull() } });
      if (live >= cap) return 'cap_reached';
      let displaced: DisplacedKey[] = [];
      if (values.proven) {
        const [rows] = (await m.query(
          `UPDATE registered_keys
              SET displaced_at = now(), deleted_at = COALESCE(deleted_at, now()), is_active = false, updated_at = now()
            WHERE kid = $1 AND tenant_id <> $2 AND NOT proven AND displaced_at IS NULL
        RETURNING tenant_id, deleted_at = now() AS was_live`,
          [values.kid, values.tenantId],
        )) as [Array<{ tenant_id: string; was_live: boolean }>, number];
        displaced = rows.map((r) => ({ tenantId: r.tenant_id, wasLive: r.was_live }));
      }
      // insert(), not save(): save() would look the key up and turn a duplicate into an UPDATE.
      await m.insert(RegisteredKeyEntity, values);
      return { row: await m.findOneByOrFail(RegisteredKeyEntity, { tenantId: values.tenantId, kid: values.kid }), displaced };
    });
  }

  async holders(tenantId: string, kid: string): Promise<KidHolders> {
    const rows = await this.repo.find({ where: { kid } });
    const own = rows.find((r) => r.tenantId === tenantId);
    return {
      own: own && { deleted: own.deletedAt !== null, displaced: own.displacedAt !== null },
      provenElsewhere: rows.some((r) => r.tenantId !== tenantId && r.proven),
    };
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
  async update(
    tenantId: string,
    kid: string,
    values: Partial<Pick<RegisteredKeyEntity, 'label' | 'isActive'>>,
  ): Promise<RegisteredKeyEntity | null> {
    if (Object.keys(values).length > 0) await this.repo.update({ tenantId, kid, deletedAt: IsNull() }, values);
    return this.findLive(tenantId, kid);
  }

  /** Soft-deletes a live key of that tenant; false when there was none. */
  async softDelete(tenantId: string, kid: string): Promise<boolean> {
    const result = await this.repo.update({ tenantId, kid, deletedAt: IsNull() }, { deletedAt: () => 'now()', isActive: false });
    return (result.affected ?? 0) > 0;
  }

  /**
   * An active key by kid, provided its tenant is live and enabled (the tenant is always the
   * key's). An unproven row never verifies once another tenant has proven the kid: the
   * displacement already deactivated it, and this holds even for a row written around it.
   */
  findActiveByKid(kid: string): Promise<RegisteredKeyEntity | null> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.kid = :kid AND k.is_active AND k.deleted_at IS NULL AND k.displaced_at IS NULL', { kid })
      .andWhere(
        '(k.proven OR NOT EXISTS (SELECT 1 FROM registered_keys p WHERE p.kid = k.kid AND p.proven AND p.tenant_id <> k.tenant_id))',
      )
      .andWhere('EXISTS (SELECT 1 FROM tenants t WHERE t.id = k.tenant_id AND t.deleted_at IS NULL AND NOT t.is_disabled)')
      .getOne();
  }

  /** The tenant's keys that verify tokens and the tenant is live and enabled: its public JWKS. */
  listPublished(tenantId: string): Promise<RegisteredKeyEntity[]> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.tenant_id = :tenantId AND k.is_active AND k.deleted_at IS NULL AND k.displaced_at IS NULL', { tenantId })
      .andWhere('EXISTS (SELECT 1 FROM tenants t WHERE t.id = k.tenant_id AND t.deleted_at IS NULL AND NOT t.is_disabled)')
      .orderBy('k.created_at', 'ASC')
      .addOrderBy('k.kid', 'ASC')
      .getMany();
  }

  /** Whether a tenant with this id was ever created (deleted ones included). */
  async tenantEverExisted(tenantId: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
    return rows.length > 0;
  }

  /** Active RSA keys that are not deleted, for the start-up policy check. */
  listActiveRsa(): Promise<RegisteredKeyEntity[]> {
    return this.repo.createQueryBuilder('k').where(`k.is_active AND k.deleted_at IS NULL AND k.public_jwk->>'kty' = 'RSA'`).getMany();
  }

  /** Switches a key off; false when it was already off or gone. */
  async deactivate(tenantId: string, kid: string): Promise<boolean> {
    const result = await this.repo.update({ tenantId, kid, isActive: true, deletedAt: IsNull() }, { isActive: false });
    return (result.affected ?? 0) > 0;
  }
}
