import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { RefreshGrantContext } from './refresh-grant-context';

export interface NewFamily extends RefreshGrantContext {
  createdAt: Date;
  expiresAt: Date;
}

/** A refresh token row with its family (what the family remembers: RefreshGrantContext), its tenant's state and its subject's cut-off. */
export interface RefreshTokenRow extends RefreshGrantContext {
  id: string;
  familyId: string;
  generation: number;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
  familyCreatedAt: Date;
  familyExpiresAt: Date;
  familyRevokedAt: Date | null;
  isTenantBlocked: boolean;
  subjectNotBefore: Date | null;
  /** The tenant's current maximum access-token lifetime (it may have been lowered since the family began). */
  tenantAccessTokenMaxTtl: number;
  /** The DPoP key the family is bound to, or null. */
  dpopJkt: string | null;
}

export interface ChildToken {
  tokenHash: Buffer;
  expiresAt: Date;
}

/** What a rotation needs besides the presented token: the child and who is asking. */
export interface RotationRequest {
  now: Date;
  childHash: Buffer;
  /** Sliding lifetime of the child, in seconds; never past the family's absolute expiry. */
  childTtlSeconds: number;
  clientId: string | null;
  clientTenantId: string | null;
  /** The scope tokens the request asks for (RFC 6749 §6), or null for the family's scope: a wider one must not rotate. */
  requestedScope: readonly string[] | null;
  /** The key thumbprint of the request's verified DPoP proof, or null: a bound family rotates only with its own key. */
  dpopJkt: string | null;
}

const COLUMNS = `
  t.id, t.family_id, t.generation, t.expires_at, t.used_at, t.revoked_at,
  f.tenant_id, f.sub, f.client_id, f.scope, f.audience, f.claims, f.access_token_ttl,
  f.created_at AS family_created_at, f.expires_at AS family_expires_at, f.revoked_at AS family_revoked_at,
  (tn.is_disabled OR tn.deleted_at IS NOT NULL) AS tenant_blocked, c.not_before AS subject_not_before,
  tn.access_token_max_ttl AS tenant_access_token_max_ttl, f.dpop_jkt`;

/** After `refresh_families f`: the tenant's state and the subject's cut-off. */
const FAMILY_JOINS = `
  JOIN tenants tn ON tn.id = f.tenant_id
  LEFT JOIN subject_cutoffs c ON c.tenant_id = f.tenant_id AND c.sub = f.sub`;

/** The only code that touches refresh_families and refresh_tokens. */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A family and its generation 0, in one statement (one round trip, atomic). */
  async createFamily(family: NewFamily, first: ChildToken): Promise<string> {
    const [{ id }] = await this.dataSource.query(
      `WITH family AS (
         INSERT INTO refresh_families (tenant_id, sub, client_id, scope, audience, claims, access_token_ttl, created_at, expires_at, dpop_jkt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12) RETURNING id, tenant_id, created_at)
       INSERT INTO refresh_tokens (family_id, generation, parent_id, token_hash, tenant_id, expires_at, created_at)
       SELECT id, 0, NULL, $10, tenant_id, $11, created_at FROM family
       RETURNING family_id AS id`,
      [
        family.tenantId,
        family.sub,
        family.clientId,
        family.scope,
        family.audience,
        family.claims === null ? null : JSON.stringify(family.claims),
        family.accessTokenTtl,
        family.createdAt,
        family.expiresAt,
        first.tokenHash,
        first.expiresAt,
        family.dpopJkt ?? null,
      ],
    );
    return id as string;
  }

  /**
   * Rotation in one statement (one round trip, atomic): the conditional UPDATE marks the
   * token used only if it is unused, unrevoked and unexpired at `now` AND every rule on its
   * family holds (family live, tenant enabled, subject not cut off, the right client, a
   * requested scope within the family's), and the child is inserted from what it returned. Of any number of concurrent requests
   * exactly one matches: the others wait on the row lock, then see `used_at` set. When
   * nothing matched the token is not used up; the caller reads the row to say why.
   */
  async rotate(tokenHash: Buffer, r: RotationRequest): Promise<{ row: RefreshTokenRow; child: ChildToken } | undefined> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `WITH used AS (
         UPDATE refresh_tokens t SET used_at = $2
           FROM refresh_families f ${FAMILY_JOINS}
          WHERE t.token_hash = $1 AND f.id = t.family_id
            AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
            AND f.revoked_at IS NULL AND f.expires_at > $2
            AND NOT tn.is_disabled AND tn.deleted_at IS NULL
            AND (c.not_before IS NULL OR f.created_at > c.not_before)
            AND CASE WHEN f.client_id IS NULL THEN $5::text IS NULL OR $6::uuid = f.tenant_id ELSE f.client_id = $5 END
            AND ($7::text[] IS NULL OR $7::text[] <@ string_to_array(f.scope, ' '))
            AND (f.dpop_jkt IS NULL OR f.dpop_jkt = $8::text)
         RETURNING ${COLUMNS}),
       child AS (
         INSERT INTO refresh_tokens (family_id, generation, parent_id, token_hash, tenant_id, expires_at, created_at)
         SELECT family_id, generation + 1, id, $3, tenant_id, LEAST($2::timestamptz + make_interval(secs => $4), family_expires_at), $2 FROM used
         RETURNING expires_at AS child_expires_at)
       SELECT used.*, child.child_expires_at FROM used CROSS JOIN child`,
      [tokenHash, r.now, r.childHash, r.childTtlSeconds, r.clientId, r.clientTenantId, r.requestedScope, r.dpopJkt],
    );
    if (rows.length === 0) return undefined;
    return { row: toRow(rows[0]), child: { tokenHash: r.childHash, expiresAt: rows[0].child_expires_at as Date } };
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
   * Ends the subject's families created up to `createdUpTo` and all their tokens (a subject
   * revocation), inside the caller's transaction; returns how many families it ended.
   */
  async revokeSubjectFamilies(m: EntityManager, tenantId: string, sub: string, revokedAt: Date, createdUpTo: Date): Promise<number> {
    const [families] = await m.query(
      `UPDATE refresh_families SET revoked_at = $3, revoked_reason = 'subject_revoked'
       WHERE tenant_id = $1 AND sub = $2 AND revoked_at IS NULL AND created_at <= $4
       RETURNING id`,
      [tenantId, sub, revokedAt, createdUpTo],
    );
    const ids = (families as Array<{ id: string }>).map((f) => f.id);
    if (ids.length > 0) {
      await m.query(`UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = ANY($1::uuid[]) AND revoked_at IS NULL`, [ids, revokedAt]);
    }
    return ids.length;
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
    tenantAccessTokenMaxTtl: Number(r.tenant_access_token_max_ttl),
    dpopJkt: (r.dpop_jkt as string | null) ?? null,
  };
}
