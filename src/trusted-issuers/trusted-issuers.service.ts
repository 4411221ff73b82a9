import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ClientsService } from '../clients/clients.service';
import { scopesOutside } from '../clients/scope';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { issuerUrlProblem } from '../common/http/issuer-url';
import { OutboundHttp } from '../common/http/outbound-http';
import { outboundUrlProblem } from '../common/http/outbound-url';
import { AppConfig } from '../config/app-config';
import { TenantsService } from '../tenants/tenants.service';
import { claimConditionsProblem } from './claim-conditions';
import { CreateTrustedIssuerDto } from './dto/create-trusted-issuer.dto';
import { TrustedIssuerResponseDto } from './dto/trusted-issuer-response.dto';
import { subjectPatternProblem } from './subject-pattern';
import { TrustedIssuerEntity } from './trusted-issuer.entity';
import { TrustedIssuersRepository } from './trusted-issuers.repository';

/** Entries a tenant may hold: each is looked at on every authentication by its issuer. */
export const MAX_TRUSTED_ISSUERS_PER_TENANT = 100;

@Injectable()
export class TrustedIssuersService {
  constructor(
    private readonly repository: TrustedIssuersRepository,
    private readonly clients: ClientsService,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly outbound: OutboundHttp,
  ) {}

  async create(tenantId: string, dto: CreateTrustedIssuerDto, actor: string, requestId?: string): Promise<TrustedIssuerResponseDto> {
    const problem =
      issuerUrlProblem(dto.issuer, 'issuer', this.config.allowInsecureIssuersForTests) ??
      (dto.jwksUri === undefined ? undefined : issuerUrlProblem(dto.jwksUri, 'jwksUri', this.config.allowInsecureIssuersForTests)) ??
      // The issuer itself is fetched (discovery) only when no jwksUri is given (docs/adr/0020).
      (dto.jwksUri === undefined
        ? outboundUrlProblem(dto.issuer, 'issuer', this.outbound)
        : outboundUrlProblem(dto.jwksUri, 'jwksUri', this.outbound)) ??
      subjectPatternProblem(dto.subject) ??
      (dto.claims === undefined ? undefined : claimConditionsProblem(dto.claims));
    if (problem) throw new AppException(ErrorCode.VALIDATION_FAILED, problem);
    await this.tenants.settings(tenantId);
    const client = await this.clients.findForTenant(tenantId, dto.clientId);
    if (!client) throw new AppException(ErrorCode.VALIDATION_FAILED, 'clientId must name one of this tenant’s live clients');
    const scopes = dto.scopes === undefined ? null : [...new Set(dto.scopes)];
    const outside = scopes ? scopesOutside(scopes, client.scopes) : [];
    if (outside.length > 0)
      throw new AppException(
        ErrorCode.VALIDATION_FAILED,
        `scopes must be a subset of the client’s; not the client’s: ${outside.join(' ')}`,
      );
    if ((await this.repository.countForTenant(tenantId)) >= MAX_TRUSTED_ISSUERS_PER_TENANT) {
      throw new AppException(
        ErrorCode.CONFLICT,
        `The tenant already has ${MAX_TRUSTED_ISSUERS_PER_TENANT} trusted issuer entries: delete one first`,
      );
    }
    let row: TrustedIssuerEntity;
    try {
      row = await this.repository.insert({
        tenantId,
        issuer: dto.issuer,
        jwksUri: dto.jwksUri ?? null,
        audience: dto.audience,
        subject: dto.subject,
        claims: dto.claims ?? {},
        clientId: client.clientId,
        scopes,
      });
    } catch (error) {
      if (isUniqueViolation(error, 'trusted_issuers_rule_key'))
        throw new AppException(ErrorCode.CONFLICT, 'The same entry (issuer, audience, subject, claims, client) already exists');
      throw error;
    }
    await this.audit.record({
      tenantId,
      type: 'trusted_issuer.created',
      actor,
      subject: row.id,
      details: { issuer: row.issuer, audience: row.audience, subject: row.subject, clientId: row.clientId },
      requestId,
    });
    return this.map(row);
  }

  async list(tenantId: string, limit: number, offset: number): Promise<TrustedIssuerResponseDto[]> {
    await this.tenants.settings(tenantId);
    return (await this.repository.list(tenantId, limit, offset)).map((r) => this.map(r));
  }

  async get(tenantId: string, id: string): Promise<TrustedIssuerResponseDto> {
    await this.tenants.settings(tenantId);
    const row = await this.repository.findOne(tenantId, id);
    if (!row) throw new AppException(ErrorCode.NOT_FOUND, 'Trusted issuer entry not found');
    return this.map(row);
  }

  /** Entries are read on every authentication: the next request with such a token is refused. */
  async remove(tenantId: string, id: string, actor: string, requestId?: string): Promise<void> {
    if (!(await this.repository.delete(tenantId, id))) throw new AppException(ErrorCode.NOT_FOUND, 'Trusted issuer entry not found');
    await this.audit.record({ tenantId, type: 'trusted_issuer.deleted', actor, subject: id, requestId });
  }

  private map(r: TrustedIssuerEntity): TrustedIssuerResponseDto {
    return {
      id: r.id,
      issuer: r.issuer,
      jwksUri: r.jwksUri,
      audience: r.audience,
      subject: r.subject,
      claims: r.claims,
      clientId: r.clientId,
      scopes: r.scopes,
      createdAt: r.createdAt.toISOString(),
    };
  }
}
