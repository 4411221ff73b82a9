import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { TenantsService } from '../tenants/tenants.service';
import { DenylistService } from './denylist.service';
import { SubjectRevocationResponseDto } from './dto/subject-revocation-response.dto';
import { RevocationRepository } from './revocation.repository';

/**
 * The longest any token Tessera accepts can live: the upper bound of a tenant's
 * accessTokenMaxTtl and registeredTokenMaxTtl (a tenant may lower its maximum after issuing
 * longer tokens, so the bound, not the current setting, decides how long a cut-off is kept).
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;
/** Longest sub stored (a token is at most 8 KB); longer ones than NOTIFY can carry make replicas reload. */
export const MAX_IDENTIFIER_LENGTH = 8192;
/**
 * Longest jti accepted: in a registered token (longer → MALFORMED_TOKEN), and so on the
 * denylist and in the jwt-bearer replay table. UUIDs are 36 characters; 256 leaves room for
 * any id scheme while bounding what a tenant can make every replica hold per revocation.
 */
export const MAX_JTI_LENGTH = 256;

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

@Injectable()
export class RevocationService {
  constructor(
    private readonly repository: RevocationRepository,
    private readonly denylist: DenylistService,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly refreshTokens: RefreshTokensService,
  ) {}

  /**
   * Puts a jti on the denylist until expiresAt (plus CLOCK_TOLERANCE_SECONDS, as long as a
   * verifier would still accept the token). Idempotent; NOTIFY reaches every replica within
   * a second, and this replica at once.
   */
  async revokeAccessToken(tenantId: string, jti: string, expiresAt: Date, actor = 'oauth', requestId?: string): Promise<void> {
    // An empty jti names nothing. Verification refuses longer jtis than MAX_JTI_LENGTH, so a
    // token that carries one never verified and cannot get here; refuse it all the same.
    if (jti.length === 0) return;
    if (jti.length > MAX_JTI_LENGTH)
      throw new AppException(ErrorCode.VALIDATION_FAILED, `jti must be at most ${MAX_JTI_LENGTH} characters`);
    const now = this.clock.now();
    const until = new Date(expiresAt.getTime() + this.config.clockToleranceSeconds * 1000);
    if (until.getTime() <= now.getTime()) return; // already dead everywhere
    const cap = this.config.revocationMaxJtisPerTenant;
    if (!(await this.repository.addRevokedJti(tenantId, jti, until, now, cap))) {
      throw new AppException(
        ErrorCode.REVOCATION_LIMIT_REACHED,
        `This tenant already holds ${cap} revoked tokens still in force, the most allowed (REVOCATION_MAX_JTIS_PER_TENANT); each leaves when its token ` +
          'expires. Revoke the subject instead (POST /v1/tenants/{tenantId}/subjects/{sub}/revoke), or ask the operator to raise the limit',
      );
    }
    this.denylist.apply({ t: 'jti', tenantId, jti, exp: epochSeconds(until) });
    await this.audit.record({ tenantId, type: 'access_token.revoked', actor, details: { jti }, requestId });
  }

  /**
   * Every token of `sub` issued up to now stops working (iat <= cut-off second), and the
   * subject's refresh families end, in the same transaction as the cut-off.
   */
  async revokeSubject(tenantId: string, sub: string, actor: string, requestId?: string): Promise<SubjectRevocationResponseDto> {
    if (sub.length === 0 || sub.length > MAX_IDENTIFIER_LENGTH) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, `sub must be 1 to ${MAX_IDENTIFIER_LENGTH} characters`);
    }
    await this.tenants.settings(tenantId); // 404 for an unknown or deleted tenant
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + (MAX_TOKEN_LIFETIME_SECONDS + this.config.clockToleranceSeconds) * 1000);
    const cap = this.config.revocationMaxSubjectsPerTenant;
    const cutoff = await this.repository.cutOffSubject(tenantId, sub, now, expiresAt, cap, (m, upTo) =>
      this.refreshTokens.revokeSubjectFamilies(m, tenantId, sub, now, upTo),
    );
    if (!cutoff) {
      throw new AppException(
        ErrorCode.REVOCATION_LIMIT_REACHED,
        `This tenant already holds ${cap} subject cut-offs still in force, the most allowed (REVOCATION_MAX_SUBJECTS_PER_TENANT); each is kept ` +
          `${MAX_TOKEN_LIFETIME_SECONDS} s after it is set. Revoking a subject that already has one still works; ` +
          'to end every token at once disable the tenant or rotate its keys, or ask the operator to raise the limit',
      );
    }
    this.denylist.apply({ t: 'sub', tenantId, sub, nbf: epochSeconds(cutoff.notBefore), exp: epochSeconds(cutoff.expiresAt) });
    await this.audit.record({
      tenantId,
      type: 'subject.revoked',
      actor,
      subject: sub,
      details: { notBefore: cutoff.notBefore.toISOString(), refreshFamiliesEnded: cutoff.familiesEnded },
      requestId,
    });
    return { tenantId, sub, notBefore: cutoff.notBefore.toISOString() };
  }
}
