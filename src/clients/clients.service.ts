import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { secretMatches } from '../auth/api-key-format';
import { CredentialCache } from '../auth/credential-cache';
import { CredentialChanges } from '../auth/credential-changes.service';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { TenantsService } from '../tenants/tenants.service';
import { generateClient, isClientId } from './client-secret';
import { ClientEntity } from './client.entity';
import { ClientsRepository } from './clients.repository';
import { ClientResponseDto, CreatedClientResponseDto } from './dto/client-response.dto';
import { CreateClientDto } from './dto/create-client.dto';

/** What other modules learn about a client: never its secret or hash. */
export interface ClientInfo {
  clientId: string;
  tenantId: string;
  scopes: string[];
}

@Injectable()
export class ClientsService {
  constructor(
    private readonly repository: ClientsRepository,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly credentials: CredentialCache,
    private readonly changes: CredentialChanges,
  ) {}

  /** Creates a client and returns its secret once; only the secret's SHA-256 is stored. */
  async create(tenantId: string, dto: CreateClientDto, actor: string, requestId?: string): Promise<CreatedClientResponseDto> {
    await this.tenants.settings(tenantId);
    const scopes = [...new Set(dto.scopes)];
    // 96 random bits make an id collision practically impossible; the primary key makes it safe, one retry invisible.
    for (let attempt = 0; ; attempt++) {
      const generated = generateClient();
      try {
        const row = await this.repository.insert({ clientId: generated.clientId, tenantId, name: dto.name, scopes, secretHash: generated.secretHash });
        await this.audit.record({ tenantId, type: 'client.created', actor, subject: row.clientId, details: { name: row.name, scopes: row.scopes }, requestId });
        return { ...this.map(row), clientSecret: generated.clientSecret };
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
    if (!credential || !secretMatches(clientSecret, credential.secretHash)) return undefined;
    return { clientId: credential.clientId, tenantId: credential.tenantId, scopes: credential.scopes };
  }

  /** A live client of that (live, enabled) tenant, or undefined. */
  async findForTenant(tenantId: string, clientId: string): Promise<ClientInfo | undefined> {
    if (!isClientId(clientId)) return undefined;
    const credential = await this.repository.findUsable(clientId, tenantId);
    return credential && { clientId: credential.clientId, tenantId: credential.tenantId, scopes: credential.scopes };
  }

  private map(c: ClientEntity): ClientResponseDto {
    return { clientId: c.clientId, name: c.name, scopes: c.scopes, createdAt: c.createdAt.toISOString() };
  }
}
