import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { secretMatches } from '../auth/api-key-format';
import { CredentialCache } from '../auth/credential-cache';
import { CredentialChanges } from '../auth/credential-changes.service';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { issuerUrlProblem } from '../common/http/issuer-url';
import { OutboundAddressPolicy } from '../common/http/outbound-address-policy';
import { outboundUrlProblem } from '../common/http/outbound-url';
import { AppConfig } from '../config/app-config';
import { TenantsService } from '../tenants/tenants.service';
import { ClientJwk, ClientJwksError, normalizeClientJwks } from './client-jwks';
import { generateClient, isClientId } from './client-secret';
import { ClientAuthMethod, ClientEntity } from './client.entity';
import { ClientCredential, ClientsRepository } from './clients.repository';
import { ClientResponseDto, CreatedClientResponseDto } from './dto/client-response.dto';
import { CreateClientDto } from './dto/create-client.dto';

/** What other modules learn about a client: never its secret or hash. */
export interface ClientInfo {
  clientId: string;
  tenantId: string;
  scopes: string[];
  /** RFC 9449 §5.2: the client's tokens are DPoP-bound only (a token request without a proof is refused). */
  dpopBoundAccessTokens?: boolean;
}

/** A private_key_jwt client, with where its public keys are (exactly one of jwks and jwksUri). */
export interface AssertionClient extends ClientInfo {
  jwks: ClientJwk[] | null;
  jwksUri: string | null;
}

@Injectable()
export class ClientsService {
  constructor(
    private readonly repository: ClientsRepository,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly credentials: CredentialCache,
    private readonly changes: CredentialChanges,
    private readonly config: AppConfig,
  ) {}

  /**
   * Creates a client and returns its secret once; only the secret's SHA-256 is stored. A
   * private_key_jwt client gets no secret: it proves itself with its keys (`jwks` or `jwksUri`).
   */
  async create(tenantId: string, dto: CreateClientDto, actor: string, requestId?: string): Promise<CreatedClientResponseDto> {
    const method = dto.tokenEndpointAuthMethod ?? 'client_secret_basic';
    const keys = this.keysOf(method, dto);
    await this.tenants.settings(tenantId);
    const scopes = [...new Set(dto.scopes)];
    // 96 random bits make an id collision practically impossible; the primary key makes it safe, one retry invisible.
    for (let attempt = 0; ; attempt++) {
      const generated = generateClient();
      try {
        const secretless = method === 'private_key_jwt';
        const row = await this.repository.insert({
          clientId: generated.clientId,
          tenantId,
          name: dto.name,
          scopes,
          secretHash: secretless ? null : generated.secretHash,
          tokenEndpointAuthMethod: method,
          ...keys,
          dpopBoundAccessTokens: dto.dpopBoundAccessTokens ?? false,
        });
        await this.audit.record({
          tenantId,
          type: 'client.created',
          actor,
          subject: row.clientId,
          details: {
            name: row.name,
            scopes: row.scopes,
            tokenEndpointAuthMethod: method,
            ...(row.jwksUri ? { jwksUri: row.jwksUri } : {}),
          },
          requestId,
        });
        return secretless ? this.map(row) : { ...this.map(row), clientSecret: generated.clientSecret };
      } catch (error) {
        if (attempt > 0 || !isUniqueViolation(error, 'clients_pkey')) throw error;
      }
    }
  }

  async list(tenantId: string, limit: number, offset: number): Promise<ClientResponseDto[]> {
    await this.tenants.settings(tenantId);
    return (await this.repository.listLive(tenantId, limit, offset)).map((c) => this.map(c));
  }

  /** Soft delete: the client can no longer authenticate; its id is never reused. */
  async remove(tenantId: string, clientId: string, actor: string, requestId?: string): Promise<void> {
    if (!(await this.repository.softDelete(tenantId, clientId))) throw new AppException(ErrorCode.NOT_FOUND, 'Client not found');
    // Committed: the next request on this replica is refused (other replicas hear it through NOTIFY).
    this.changes.published({ t: 'client', tenantId, clientId });
    await this.audit.record({ tenantId, type: 'client.deleted', actor, subject: clientId, requestId });
  }

  /** Constant-time check of a client's secret; undefined when unknown, deleted, wrong secret, or tenant disabled/deleted. */
  async authenticate(clientId: string, clientSecret: string): Promise<ClientInfo | undefined> {
    if (!isClientId(clientId)) return undefined;
    // The secret is checked on every call; only the row is reused (CredentialCache).
    const credential = await this.credentials.get('client', clientId, () => this.repository.findUsable(clientId));
    // A private_key_jwt client has no secret: no secret authenticates it.
    if (!credential?.secretHash || !secretMatches(clientSecret, credential.secretHash)) return undefined;
    return infoOf(credential);
  }

  /** A live client of that (live, enabled) tenant, or undefined. */
  async findForTenant(tenantId: string, clientId: string): Promise<ClientInfo | undefined> {
    if (!isClientId(clientId)) return undefined;
    const credential = await this.repository.findUsable(clientId, tenantId);
    return credential && infoOf(credential);
  }

  /** A live client of a live, enabled tenant, whatever its authentication method; undefined otherwise. */
  async findInfo(clientId: string): Promise<ClientInfo | undefined> {
    if (!isClientId(clientId)) return undefined;
    const credential = await this.credentials.get('client', clientId, () => this.repository.findUsable(clientId));
    return credential && infoOf(credential);
  }

  /** A live private_key_jwt client of a live, enabled tenant, with its keys; undefined otherwise. */
  async findAssertionClient(clientId: string): Promise<AssertionClient | undefined> {
    if (!isClientId(clientId)) return undefined;
    const credential = await this.credentials.get('client', clientId, () => this.repository.findUsable(clientId));
    if (!credential || credential.tokenEndpointAuthMethod !== 'private_key_jwt') return undefined;
    return {
      ...infoOf(credential),
      jwks: credential.jwks?.keys ?? null,
      jwksUri: credential.jwksUri,
    };
  }

  /** The key columns for a new client: only private_key_jwt has (and needs) exactly one of jwks and jwksUri. */
  private keysOf(method: ClientAuthMethod, dto: CreateClientDto): { jwks: { keys: ClientJwk[] } | null; jwksUri: string | null } {
    if (method !== 'private_key_jwt') {
      if (dto.jwks !== undefined || dto.jwksUri !== undefined) {
        throw new AppException(ErrorCode.VALIDATION_FAILED, 'jwks and jwksUri are only for tokenEndpointAuthMethod "private_key_jwt"');
      }
      return { jwks: null, jwksUri: null };
    }
    if ((dto.jwks === undefined) === (dto.jwksUri === undefined)) {
      throw new AppException(
        ErrorCode.VALIDATION_FAILED,
        'A private_key_jwt client needs exactly one of jwks (its public keys) or jwksUri',
      );
    }
    if (dto.jwksUri !== undefined) {
      // A literal internal address is refused now; the fetch itself goes through OutboundHttp, which checks at connect (docs/adr/0020).
      const addresses = new OutboundAddressPolicy(this.config.outboundAllowedNetworks, this.config.allowInsecureIssuersForTests);
      const problem =
        issuerUrlProblem(dto.jwksUri, 'jwksUri', this.config.allowInsecureIssuersForTests) ??
        outboundUrlProblem(dto.jwksUri, 'jwksUri', addresses);
      if (problem) throw new AppException(ErrorCode.VALIDATION_FAILED, problem);
      return { jwks: null, jwksUri: dto.jwksUri };
    }
    try {
      return { jwks: { keys: normalizeClientJwks(dto.jwks) }, jwksUri: null };
    } catch (error) {
      if (error instanceof ClientJwksError) throw new AppException(ErrorCode.VALIDATION_FAILED, error.message);
      throw error;
    }
  }

  private map(c: ClientEntity): ClientResponseDto {
    return {
      clientId: c.clientId,
      name: c.name,
      scopes: c.scopes,
      tokenEndpointAuthMethod: c.tokenEndpointAuthMethod,
      ...(c.jwks ? { jwks: c.jwks } : {}),
      ...(c.jwksUri ? { jwksUri: c.jwksUri } : {}),
      ...(c.dpopBoundAccessTokens ? { dpopBoundAccessTokens: true } : {}),
      createdAt: c.createdAt.toISOString(),
    };
  }
}

/** What other modules learn of a usable client. */
function infoOf(c: ClientCredential): ClientInfo {
  return {
    clientId: c.clientId,
    tenantId: c.tenantId,
    scopes: c.scopes,
    ...(c.dpopBoundAccessTokens ? { dpopBoundAccessTokens: true } : {}),
  };
}
