import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface DenylistSnapshot {
  /** [tenantId, jti, expiry in epoch seconds] */
  jtis: Array<[string, string, number]>;
  /** [tenantId, sub, notBefore in epoch seconds, expiry in epoch seconds] */
  cutoffs: Array<[string, string, number, number]>;
  /** Tenants that are disabled or deleted: none of their tokens is accepted. */
  blockedTenants: string[];
}

const epoch = (column: string) => `floor(extract(epoch FROM ${column}))::bigint`;

/**
 * Serialises a tenant's inserts into one table across connections and replicas until the
 * transaction ends. Without it, two transactions under READ COMMITTED could both count
 * cap - 1 rows and both insert; with it the count and the insert are one step per tenant.
 */
async function lockTenant(m: EntityManager, table: string, tenantId: string): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, [table, tenantId]);
}

/** The only code that writes the denylist tables (revoked_jtis, subject_cutoffs); refresh tables are RefreshTokensService's. */
@Injectable()
export class RevocationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Idempotent; a second revocation of the same jti only ever extends its expiry. False, and
   * nothing written, when the jti is new and the tenant already holds `cap` jtis in force.
   */
  addRevokedJti(tenantId: string, jti: string, expiresAt: Date, now: Date, cap: number): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      await lockTenant(m, 'revoked_jtis', tenantId);
      // TypeORM answers an INSERT with its rows (only UPDATE and DELETE come as [rows, count]).
      const rows = (await m.query(
        `INSERT INTO revoked_jtis (tenant_id, jti, expires_at)
         SELECT $1, $2, $3
          WHERE EXISTS (SELECT 1 FROM revoked_jtis WHERE tenant_id = $1 AND jti = $2)
             OR (SELECT count(*) FROM revoked_jtis WHERE tenant_id = $1 AND expires_at > $4) < $5
         ON CONFLICT (tenant_id, jti) DO UPDATE SET expires_at = GREATEST(revoked_jtis.expires_at, EXCLUDED.expires_at)
         RETURNING 1`,
        [tenantId, jti, expiresAt, now, cap],
      )) as unknown[];
      return rows.length > 0;
    });
  }

  /**
   * Sets (or moves forward) the subject's cut-off and, in the same transaction, runs
   * `endFamilies` with the cut-off in force (the refresh feature ends the families created up
   * to it): either both happen or neither. One row per (tenant, subject): a repeat keeps the
   * latest cut-off. Undefined, and nothing written, when the subject has no row yet and the
   * tenant already holds `cap` cut-offs in force.
   */
  cutOffSubject(
    tenantId: string,
    sub: string,
    notBefore: Date,
    expiresAt: Date,
    cap: number,
    endFamilies: (m: EntityManager, cutoffNotBefore: Date) => Promise<number>,
  ): Promise<{ notBefore: Date; expiresAt: Date; familiesEnded: number } | undefined> {
    return this.dataSource.transaction(async (m) => {
      await lockTenant(m, 'subject_cutoffs', tenantId);
      const [cutoff] = (await m.query(
        `INSERT INTO subject_cutoffs (tenant_id, sub, not_before, expires_at)
         SELECT $1, $2, $3, $4
          WHERE EXISTS (SELECT 1 FROM subject_cutoffs WHERE tenant_id = $1 AND sub = $2)
             OR (SELECT count(*) FROM subject_cutoffs WHERE tenant_id = $1 AND expires_at > $3) < $5
         ON CONFLICT (tenant_id, sub) DO UPDATE
           SET not_before = GREATEST(subject_cutoffs.not_before, EXCLUDED.not_before),
               expires_at = GREATEST(subject_cutoffs.expires_at, EXCLUDED.expires_at)
         RETURNING not_before, expires_at`,
        [tenantId, sub, notBefore, expiresAt, cap],
      )) as Array<{ not_before: Date; expires_at: Date }>;
      if (!cutoff) return undefined;
      const familiesEnded = await endFamilies(m, cutoff.not_before);
      return { notBefore: cutoff.not_before as Date, expiresAt: cutoff.expires_at as Date, familiesEnded };
    });
  }

  /** Everything still in force at `now`, read from one snapshot. */
  loadLive(now: Date): Promise<DenylistSnapshot> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const jtis: Array<{ tenant_id: string; jti: string; exp: string }> = await m.query(
        `SELECT tenant_id, jti, ${epoch('expires_at')} AS exp FROM revoked_jtis WHERE expires_at > $1`,
        [now],
      );
      const cutoffs: Array<{ tenant_id: string; sub: string; nbf: string; exp: string }> = await m.query(
        `SELECT tenant_id, sub, ${epoch('not_before')} AS nbf, ${epoch('expires_at')} AS exp FROM subject_cutoffs WHERE expires_at > $1`,
        [now],
      );
      const tenants: Array<{ id: string }> = await m.query(`SELECT id FROM tenants WHERE is_disabled OR deleted_at IS NOT NULL`);
      return {
        jtis: jtis.map((r) => [r.tenant_id, r.jti, Number(r.exp)]),
        cutoffs: cutoffs.map((r) => [r.tenant_id, r.sub, Number(r.nbf), Number(r.exp)]),
        blockedTenants: tenants.map((r) => r.id),
      };
    });
  }

  /** Deletes rows whose tokens have all expired. Idempotent, so every replica may run it. */
  async purgeExpired(now: Date): Promise<{ jtis: number; cutoffs: number }> {
    const [, jtis] = await this.dataSource.query(`DELETE FROM revoked_jtis WHERE expires_at <= $1 RETURNING 1`, [now]);
    const [, cutoffs] = await this.dataSource.query(`DELETE FROM subject_cutoffs WHERE expires_at <= $1 RETURNING 1`, [now]);
    return { jtis: Number(jtis), cutoffs: Number(cutoffs) };
  }
}
