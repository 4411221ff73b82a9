import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface DenylistSnapshot {
  /** [tenantId, jti, expiry in epoch seconds] */
  jtis: Array<[string, string, number]>;
  /** [tenantId, sub, notBefore in epoch seconds, expiry in epoch seconds] */
  cutoffs: Array<[string, string, number, number]>;
  /** Tenants that are disabled or deleted: none of their tokens is accepted. */
  blockedTenants: string[];
}

const epoch = (column: string) => `floor(extract(epoch FROM ${column}))::bigint`;

/** The only code that touches the denylist tables. */
@Injectable()
export class RevocationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Idempotent; a second revocation of the same jti only ever extends its expiry. */
  async addRevokedJti(tenantId: string, jti: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO revoked_jtis (tenant_id, jti, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, jti) DO UPDATE SET expires_at = GREATEST(revoked_jtis.expires_at, EXCLUDED.expires_at)`,
      [tenantId, jti, expiresAt],
    );
  }

  /**
   * Sets (or moves forward) the subject's cut-off and ends the subject's refresh families
   * created up to it, in one transaction: either both happen or neither.
   */
  cutOffSubject(tenantId: string, sub: string, notBefore: Date, expiresAt: Date): Promise<{ notBefore: Date; expiresAt: Date; familiesEnded: number }> {
    return this.dataSource.transaction(async (m) => {
      const [cutoff] = await m.query(
        `INSERT INTO subject_cutoffs (tenant_id, sub, not_before, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, sub) DO UPDATE
           SET not_before = GREATEST(subject_cutoffs.not_before, EXCLUDED.not_before),
               expires_at = GREATEST(subject_cutoffs.expires_at, EXCLUDED.expires_at)
         RETURNING not_before, expires_at`,
        [tenantId, sub, notBefore, expiresAt],
      );
      const [families] = await m.query(
        `UPDATE refresh_families SET revoked_at = $3, revoked_reason = 'subject_revoked'
         WHERE tenant_id = $1 AND sub = $2 AND revoked_at IS NULL AND created_at <= $4
         RETURNING id`,
        [tenantId, sub, notBefore, cutoff.not_before],
      );
      const ids = (families as Array<{ id: string }>).map((f) => f.id);
      if (ids.length > 0) {
        await m.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = ANY($1::uuid[]) AND revoked_at IS NULL`, [ids, notBefore]);
      }
      return { notBefore: cutoff.not_before as Date, expiresAt: cutoff.expires_at as Date, familiesEnded: ids.length };
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
