import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface NewFamily {
  tenantId: string;
  sub: string;
  clientId: string | null;
  scope: string;
  audience: string[];
  claims: Record<string, unknown> | null;
  accessTokenTtl: number;
  createdAt: Date;
  expiresAt: Date;
}

/** A refresh token row with its family, its tenant's state and its subject's cut-off. */
export interface RefreshTokenRow {
  id: string;
  familyId: string;
  generation: number;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
  tenantId: string;
  sub: string;
  clientId: string | null;
  scope: string;
  audience: string[];
  claims: Record<string, unknown> | null;
  accessTokenTtl: number;
  familyCreatedAt: Date;
  familyExpiresAt: Date;
  familyRevokedAt: Date | null;
  isTenantBlocked: boolean;
  subjectNotBefore: Date | null;
}

export interface ChildToken {
  tokenHash: Buffer;
  expiresAt: Date;
}

const COLUMNS = `
  t.id, t.family_id, t.generation, t.expires_at, t.used_at, t.revoked_at,
  f.tenant_id, f.sub, f.client_id, f.scope, f.audience, f.claims, f.access_token_ttl,
  f.created_at AS family_created_at, f.expires_at AS family_expires_at, f.revoked_at AS family_revoked_at,
  (tn.is_disabled OR tn.deleted_at IS NOT NULL) AS tenant_blocked, c.not_before AS subject_not_before`;

/** After `refresh_families f`: the tenant's state and the subject's cut-off. */
const FAMILY_JOINS = `
  JOIN tenants tn ON tn.id = f.tenant_id
  LEFT JOIN subject_cutoffs c ON c.tenant_id = f.tenant_id AND c.sub = f.sub`;

/** The only code that touches refresh_families and refresh_tokens. */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A family and its generation 0, in one transaction. */
  createFamily(family: NewFamily, first: ChildToken): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      const [{ id }] = await m.query(
        `INSERT INTO refresh_families (tenant_id, sub, client_id, scope, audience, claims, access_token_ttl, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [family.tenantId, family.sub, family.clientId, family.scope, family.audience, family.claims === null ? null : JSON.stringify(family.claims), family.accessTokenTtl, family.createdAt, family.expiresAt],
      );
      await m.query(
        `INSERT INTO refresh_tokens (family_id, generation, parent_id, token_hash, tenant_id, expires_at, created_at)
         VALUES ($1, 0, NULL, $2, $3, $4, $5)`,
        [id, first.tokenHash, family.tenantId, first.expiresAt, family.createdAt],
      );
      return id as string;
    });
  }

  /**
   * Rotation, in one transaction. The conditional UPDATE marks the token used only if it is
   * unused, unrevoked and unexpired at `now`: of any number of concurrent requests exactly one
   * matches (the others wait on the row lock, then see `used_at` set). `decide` applies the
   * rules to the consumed row and either throws (the transaction rolls back and the token stays
   * unused) or names the child, which is inserted before commit. Undefined when nothing matched.
   */
  consumeAndRotate(tokenHash: Buffer, now: Date, decide: (row: RefreshTokenRow) => ChildToken): Promise<{ row: RefreshTokenRow; child: ChildToken } | undefined> {
    return this.dataSource.transaction(async (m) => {
      const [rows] = await m.query(
        `UPDATE refresh_tokens t SET used_at = $2
         FROM refresh_families f ${FAMILY_JOINS}
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2 AND f.id = t.family_id
         RETURNING ${COLUMNS}`,
        [tokenHash, now],
      );
      if ((rows as unknown[]).length === 0) return undefined;
      const row = toRow((rows as Record<string, unknown>[])[0]);
      const child = decide(row);
      await m.query(
        `INSERT INTO refresh_tokens (family_id, generation, parent_id, token_hash, tenant_id, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.familyId, row.generation + 1, row.id, child.tokenHash, row.tenantId, child.expiresAt, now],
      );
      return { row, child };
    });
  }

  async findByHash(tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id ${FAMILY_JOINS} WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return rows.length ? toRow(rows[0]) : undefined;
  }

  /** The child of `parentId` with that hash (the deterministic child of a grace-window retry). */
  async findChild(parentId: string, tokenHash: Buffer): Promise<{ id: string; expiresAt: Date; revokedAt: Date | null } | undefined> {
    const rows: Array<{ id: string; expires_at: Date; revoked_at: Date | null }> = await this.dataSource.query(
      `SELECT id, expires_at, revoked_at FROM refresh_tokens WHERE parent_id = $1 AND token_hash = $2`,
      [parentId, tokenHash],
    );
    return rows.length ? { id: rows[0].id, expiresAt: rows[0].expires_at, revokedAt: rows[0].revoked_at } : undefined;
  }

  /** Ends a family and all its tokens; true when this call ended it (false when it already was). */
  revokeFamily(familyId: string, now: Date, reason: 'reuse' | 'revoked' | 'subject_revoked'): Promise<boolean> {
    return this.dataSource.transaction(async (m: EntityManager) => {
      const [, count] = await m.query(
        `UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
        [familyId, now, reason],
      );
      await m.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, [familyId, now]);
      return count > 0;
    });
  }

  /**
   * Deletes up to `limit` families that can no longer be used (their tokens go with them, ON
   * DELETE CASCADE): past their absolute expiry, or whose newest token (the latest expiry: the
   * sliding expiry only moves forward) has expired. One statement, idempotent. SKIP LOCKED
   * passes over families another replica is purging or a rotation or revocation holds, so
   * replicas never wait on each other. Returns how many families went.
   */
  async purgeExpiredFamilies(expiredBefore: Date, limit: number): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `WITH doomed AS (
         SELECT f.id FROM refresh_families f
         WHERE f.expires_at <= $1
            OR (SELECT t.expires_at FROM refresh_tokens t WHERE t.family_id = f.id ORDER BY t.generation DESC LIMIT 1) <= $1
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       DELETE FROM refresh_families WHERE id IN (SELECT id FROM doomed)`,
      [expiredBefore, limit],
    )) as [unknown[], number];
    return Number(count);
  }
}

function toRow(r: Record<string, unknown>): RefreshTokenRow {
  return {
    id: r.id as string,
    familyId: r.family_id as string,
    generation: Number(r.generation),
    expiresAt: r.expires_at as Date,
    usedAt: (r.used_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
    tenantId: r.tenant_id as string,
    sub: r.sub as string,
    clientId: (r.client_id as string | null) ?? null,
    scope: r.scope as string,
    audience: r.audience as string[],
    claims: (r.claims as Record<string, unknown> | null) ?? null,
    accessTokenTtl: Number(r.access_token_ttl),
    familyCreatedAt: r.family_created_at as Date,
    familyExpiresAt: r.family_expires_at as Date,
    familyRevokedAt: (r.family_revoked_at as Date | null) ?? null,
    isTenantBlocked: r.tenant_blocked === true,
    subjectNotBefore: (r.subject_not_before as Date | null) ?? null,
  };
}
