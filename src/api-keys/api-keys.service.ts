import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { generateApiKey } from '../auth/api-key-format';
import { CredentialChanges } from '../auth/credential-changes.service';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { TenantsService } from '../tenants/tenants.service';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key-response.dto';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly changes: CredentialChanges,
  ) {}

  /** Creates a key and returns it once; only its SHA-256 is stored. */
  async create(tenantId: string, label: string | undefined, actor: string, requestId?: string): Promise<CreatedApiKeyResponseDto> {
    await this.tenants.settings(tenantId);
    // A prefix collision (48 random bits) is astronomically rare; the unique index makes it safe, one retry makes it invisible.
    for (let attempt = 0; ; attempt++) {
      const generated = generateApiKey();
      try {
        const row = await this.repository.create({ tenantId, label: label ?? null, prefix: generated.prefix, keyHash: generated.hash });
        await this.audit.record({ tenantId, type: 'api_key.created', actor, subject: row.id, details: { label: row.label }, requestId });
        return { ...this.map(row), key: generated.key };
      } catch (error) {
        if (attempt > 0 || !isUniqueViolation(error, 'api_keys_prefix_uq')) throw error;
      }
    }
  }

  async list(tenantId: string, limit: number, offset: number): Promise<ApiKeyResponseDto[]> {
    await this.tenants.settings(tenantId);
    return (await this.repository.listLive(tenantId, limit, offset)).map((k) => this.map(k));
  }

  async revoke(tenantId: string, id: string, actor: string, requestId?: string): Promise<void> {
    const prefix = await this.repository.revoke(tenantId, id);
    if (prefix === undefined) throw new AppException(ErrorCode.NOT_FOUND, 'API key not found');
    // Committed: the next request on this replica is refused (other replicas hear it through NOTIFY).
    this.changes.published({ t: 'api_key', tenantId, prefix });
    await this.audit.record({ tenantId, type: 'api_key.deleted', actor, subject: id, requestId });
  }

  private map(k: ApiKeyEntity): ApiKeyResponseDto {
    return { id: k.id, label: k.label, prefix: k.prefix, createdAt: k.createdAt.toISOString() };
  }
}
