import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { scopesOutside } from '../clients/scope';
import { Clock } from '../common/clock';
import { OAuthException } from '../common/errors/oauth.exception';
import { AppConfig } from '../config/app-config';
import { RefreshGrantContext } from './refresh-grant-context';
import { deriveChildToken, generateRefreshToken, hashRefreshToken, isWellFormedRefreshToken } from './refresh-token-format';
import { RefreshTokenRow, RefreshTokensRepository } from './refresh-tokens.repository';

export type { RefreshGrantContext } from './refresh-grant-context';

export interface IssuedRefreshToken {
  refreshToken: string;
  /** Seconds until this token expires (sliding TTL, never past the family's absolute expiry). */
  expiresIn: number;
}

const invalidGrant = (description: string) => new OAuthException('invalid_grant', description);

/**
 * Rotating refresh tokens with reuse detection (RFC 6749 §6, RFC 9700 §4.14.2): every use
 * returns a new token and retires the old one; presenting a retired token after the grace
 * window is treated as theft and ends the whole family. See docs/adr/0004.
 */
@Injectable()
export class RefreshTokensService {
  private readonly logger = new Logger('RefreshTokens');

  constructor(
    private readonly repository: RefreshTokensRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** New family, generation 0. */
  async issue(ctx: RefreshGrantContext): Promise<IssuedRefreshToken> {
    const now = this.clock.now();
    const familyExpiresAt = this.after(now, this.config.refreshFamilyMaxLifetimeSeconds);
    const refreshToken = generateRefreshToken();
    const expiresAt = this.slidingExpiry(now, familyExpiresAt);
    await this.repository.createFamily(
      { ...ctx, createdAt: now, expiresAt: familyExpiresAt },
      { tokenHash: hashRefreshToken(refreshToken), expiresAt },
    );
    return { refreshToken, expiresIn: this.secondsBetween(now, expiresAt) };
  }

  /**
   * Rotation with reuse detection. The caller mints a fresh access token from `context`.
   * Throws OAuthException invalid_grant (unknown, expired, revoked or reused token; tenant
   * disabled; subject cut off; a client of another tenant) or invalid_client (the family
   * belongs to a client and none authenticated). `authenticatedClientTenantId` is the tenant
   * of the authenticated client: a family issued without a client may be refreshed by a client
   * of its own tenant only (left out while a client authenticated, the family is refused).
   * `requestedScope` (parsed scope tokens, or null) outside the family's scope is invalid_scope,
   * decided inside the rotation statement, so a refused request never uses the token up.
   * `dpopJkt` is the key of the request's verified DPoP proof: a bound family rotates only with
   * it (invalid_dpop_proof otherwise, also decided in the statement).
   */
  async rotate(
    presented: string,
    authenticatedClientId: string | null,
    authenticatedClientTenantId: string | null = null,
    requestedScope: readonly string[] | null = null,
    dpopJkt: string | null = null,
  ): Promise<{ context: RefreshGrantContext; refreshToken: string; expiresIn: number }> {
    if (!isWellFormedRefreshToken(presented)) throw invalidGrant('Refresh token is invalid');
    const now = this.clock.now();
    const child = deriveChildToken(presented, this.config.derivedSecrets.refreshToken);
    const childHash = hashRefreshToken(child);

    // The rules of checkFamily are in the statement's WHERE: a refused request does not burn the token.
    const rotated = await this.repository.rotate(hashRefreshToken(presented), {
      now,
      childHash,
      childTtlSeconds: this.config.refreshTokenTtlSeconds,
      clientId: authenticatedClientId,
      clientTenantId: authenticatedClientTenantId,
      requestedScope,
      dpopJkt,
    });
    if (rotated) {
      return { context: contextOf(rotated.row), refreshToken: child, expiresIn: this.secondsBetween(now, rotated.child.expiresAt) };
    }
    return this.notRotated(presented, childHash, child, authenticatedClientId, authenticatedClientTenantId, requestedScope, now, dpopJkt);
  }

  /**
   * A subject revocation: ends the subject's families created up to `createdUpTo`, inside the
   * caller's transaction (RevocationService's cut-off), so that both happen or neither.
   */
  revokeSubjectFamilies(m: EntityManager, tenantId: string, sub: string, revokedAt: Date, createdUpTo: Date): Promise<number> {
    return this.repository.revokeSubjectFamilies(m, tenantId, sub, revokedAt, createdUpTo);
  }

  /** RFC 7009: ends the family of this token if it belongs to tenantId; false when unknown or foreign. */
  async revokeFamilyByToken(
    presented: string,
    tenantId: string,
    actor = 'oauth',
    requestId?: string,
    callerClientId?: string,
  ): Promise<boolean> {
    if (!isWellFormedRefreshToken(presented)) return false;
    const row = await this.repository.findByHash(hashRefreshToken(presented));
    if (!row || row.tenantId !== tenantId) return false;
    // RFC 7009 §2.1: a client revokes only its own refresh tokens; the tenant's X-Api-Key revokes any (docs/adr/0013-registered-token-trust.md).
    if (callerClientId !== undefined && row.clientId !== callerClientId) {
      throw new OAuthException(
        'unauthorized_client',
        'A client may revoke only refresh tokens issued to it; revoke other tokens of the tenant with its X-Api-Key',
      );
    }
    if (await this.repository.revokeFamily(row.familyId, this.clock.now(), 'revoked')) {
      await this.audit.record({
        tenantId,
        type: 'refresh_family.revoked',
        actor,
        subject: row.sub,
        details: { familyId: row.familyId, generation: row.generation, reason: 'revoked' },
        requestId,
      });
    }
    return true;
  }

  /** The UPDATE matched nothing: say why, answer a retry within the grace window, or end a reused family. */
  private async notRotated(
    presented: string,
    childHash: Buffer,
    child: string,
    clientId: string | null,
    clientTenantId: string | null,
    requestedScope: readonly string[] | null,
    now: Date,
    dpopJkt: string | null,
  ) {
    const row = await this.repository.findByHash(hashRefreshToken(presented));
    if (!row) throw invalidGrant('Refresh token is invalid');
    this.checkClient(row, clientId, clientTenantId);
    // Before reuse detection: whoever holds a stolen bound token without its key can neither use
    // it nor end the family of the client that holds both (RFC 9449 §5).
    if (row.dpopJkt !== null && row.dpopJkt !== dpopJkt) {
      throw new OAuthException(
        'invalid_dpop_proof',
        dpopJkt === null
          ? 'This refresh token is DPoP-bound: send a DPoP proof signed with its key'
          : 'The DPoP proof is not signed with the key this refresh token is bound to',
      );
    }
    if (row.usedAt === null) {
      // Unused, so a rule refused it (checkFamily says which), or it is revoked or expired.
      this.checkFamily(row, clientId, clientTenantId, now);
      if (row.revokedAt !== null) throw invalidGrant('Refresh token was revoked');
      if (row.expiresAt.getTime() > now.getTime() && requestedScope) {
        const outside = scopesOutside(requestedScope, row.scope === '' ? [] : row.scope.split(' '));
        // RFC 6749 §6: the scope "MUST NOT include any scope not originally granted"; the token stays usable.
        if (outside.length > 0) throw new OAuthException('invalid_scope', `Scope not granted to this refresh token: ${outside.join(' ')}`);
      }
      throw invalidGrant('Refresh token expired');
    }
    if (row.usedAt !== null && row.revokedAt === null && row.familyRevokedAt === null) {
      const graceMs = this.config.refreshReuseGraceSeconds * 1000;
      if (graceMs > 0 && now.getTime() - row.usedAt.getTime() <= graceMs) {
        // A retry (lost response, two tabs): the same child, so the family never branches.
        this.checkFamily(row, clientId, clientTenantId, now);
        const existing = await this.repository.findChild(row.id, childHash);
        if (!existing || existing.revokedAt !== null || existing.expiresAt.getTime() <= now.getTime())
          throw invalidGrant('Refresh token was revoked');
        return { context: contextOf(row), refreshToken: child, expiresIn: this.secondsBetween(now, existing.expiresAt) };
      }
      // RFC 9700 §4.14.2: a used token presented again means two parties hold it; end the family.
      if (await this.repository.revokeFamily(row.familyId, now, 'reuse')) {
        this.logger.warn({
          msg: 'Refresh token reuse detected: family revoked',
          tenantId: row.tenantId,
          familyId: row.familyId,
          generation: row.generation,
        });
        await this.audit.record({
          tenantId: row.tenantId,
          type: 'refresh_token.reuse_detected',
          actor: clientId ? `client:${clientId}` : 'anonymous',
          subject: row.sub,
          details: {
            familyId: row.familyId,
            generation: row.generation,
            usedAt: row.usedAt.toISOString(),
            graceSeconds: this.config.refreshReuseGraceSeconds,
          },
        });
      }
      throw invalidGrant('Refresh token was already used; its family has been revoked');
    }
    if (row.revokedAt !== null || row.familyRevokedAt !== null) throw invalidGrant('Refresh token was revoked');
    throw invalidGrant('Refresh token expired');
  }

  /** Rules on the family, whether the token was just consumed or is a grace-window retry. */
  private checkFamily(row: RefreshTokenRow, clientId: string | null, clientTenantId: string | null, now: Date): void {
    this.checkClient(row, clientId, clientTenantId);
    if (row.isTenantBlocked) throw invalidGrant('Refresh token is invalid: the tenant is disabled');
    if (row.familyRevokedAt !== null) throw invalidGrant('Refresh token was revoked');
    if (row.familyExpiresAt.getTime() <= now.getTime()) throw invalidGrant('Refresh token expired');
    if (row.subjectNotBefore !== null && row.familyCreatedAt.getTime() <= row.subjectNotBefore.getTime()) {
      throw invalidGrant('Refresh token was revoked');
    }
  }

  /**
   * RFC 6749 §6: a token issued to a client may only be refreshed by that client,
   * authenticated. No authentication at all is `invalid_client` (§5.2: "client
   * authentication failed … no client authentication included"); another, authenticated
   * client is `invalid_grant` (§5.2: "issued to another client"). A family issued without a
   * client needs no authentication, but a client that does authenticate must be of the
   * family's tenant: tenants never use each other's grants.
   */
  private checkClient(row: RefreshTokenRow, clientId: string | null, clientTenantId: string | null): void {
    if (row.clientId === null) {
      if (clientId !== null && clientTenantId !== row.tenantId) throw invalidGrant('This refresh token was issued in another tenant');
      return;
    }
    if (row.clientId === clientId) return;
    if (clientId === null)
      throw new OAuthException('invalid_client', 'This refresh token was issued to a client: authenticate as that client');
    throw invalidGrant('This refresh token was issued to another client');
  }

  private slidingExpiry(now: Date, familyExpiresAt: Date): Date {
    const sliding = this.after(now, this.config.refreshTokenTtlSeconds);
    return sliding.getTime() < familyExpiresAt.getTime() ? sliding : familyExpiresAt;
  }

  private after(from: Date, seconds: number): Date {
    return new Date(from.getTime() + seconds * 1000);
  }

  private secondsBetween(from: Date, to: Date): number {
    return Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
  }
}

function contextOf(row: RefreshTokenRow): RefreshGrantContext {
  return {
    tenantId: row.tenantId,
    sub: row.sub,
    clientId: row.clientId,
    scope: row.scope,
    audience: row.audience,
    claims: row.claims,
    // The tenant may have lowered its maximum since the family began.
    accessTokenTtl: Math.min(row.accessTokenTtl, row.tenantAccessTokenMaxTtl),
    ...(row.dpopJkt === null ? {} : { dpopJkt: row.dpopJkt }),
  };
}
