import { Injectable } from '@nestjs/common';
import { createPublicKey, KeyObject } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { TenantsService } from '../tenants/tenants.service';
import { CreateRegisteredKeyDto } from './dto/create-registered-key.dto';
import { JwksResponseDto, RegisteredKeyResponseDto } from './dto/registered-key-response.dto';
import { UpdateRegisteredKeyDto } from './dto/update-registered-key.dto';
import { parsePublicKey, ParsedPublicKey, PublicKeyError, RegisteredKeyAlgorithm } from './public-key';
import { RegisteredKeyEntity } from './registered-key.entity';
import { RegisteredKeysRepository } from './registered-keys.repository';

/** What token verification needs about a registered key. */
export interface ActiveRegisteredKey {
  kid: string;
  tenantId: string;
  algorithm: RegisteredKeyAlgorithm;
  keyObject: KeyObject;
}

@Injectable()
export class RegisteredKeysService {
  constructor(
    private readonly repository: RegisteredKeysRepository,
    private readonly tenants: TenantsService,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async register(tenantId: string, dto: CreateRegisteredKeyDto, actor: string, requestId?: string): Promise<RegisteredKeyResponseDto> {
    await this.tenants.settings(tenantId);
    const parsed = this.parse(dto);
    const cap = this.config.maxRegisteredKeysPerTenant;
    try {
      const row = await this.repository.insertWithinCap(
        { kid: parsed.kid, tenantId, label: dto.label, algorithm: dto.algorithm, publicJwk: parsed.publicJwk, fingerprint: parsed.fingerprint },
        cap,
      );
      if (!row) throw new AppException(ErrorCode.CONFLICT, `This tenant already has ${cap} registered keys, the most allowed: delete one first`);
      await this.audit.record({
        tenantId, type: 'registered_key.created', actor, subject: row.kid,
        details: { label: row.label, algorithm: row.algorithm, fingerprint: row.fingerprint }, requestId,
      });
      return this.map(row);
    } catch (error) {
      // The kid is the primary key and survives a delete: a deleted key stays revoked for good.
      if (isUniqueViolation(error, 'registered_keys_pkey')) {
        throw new AppException(
          ErrorCode.CONFLICT,
          `This public key is already registered (kid ${parsed.kid}); a key that was deleted cannot be registered again, generate a new key pair`,
        );
      }
      throw error;
    }
  }

  async list(tenantId: string, limit: number, offset: number): Promise<RegisteredKeyResponseDto[]> {
    await this.tenants.settings(tenantId);
    return (await this.repository.listLive(tenantId, limit, offset)).map((k) => this.map(k));
  }

  async get(tenantId: string, kid: string): Promise<RegisteredKeyResponseDto> {
    return this.map(this.foundOrThrow(await this.repository.findLive(tenantId, kid)));
  }

  async update(tenantId: string, kid: string, dto: UpdateRegisteredKeyDto, actor: string, requestId?: string): Promise<RegisteredKeyResponseDto> {
    const values = { ...(dto.label === undefined ? {} : { label: dto.label }), ...(dto.active === undefined ? {} : { isActive: dto.active }) };
    const row = this.foundOrThrow(await this.repository.update(tenantId, kid, values));
    // The fields the request set, with their new values (an empty PATCH changes nothing and is not recorded).
    const changes = { ...(dto.label === undefined ? {} : { label: dto.label }), ...(dto.active === undefined ? {} : { active: dto.active }) };
    if (Object.keys(changes).length > 0) await this.audit.record({ tenantId, type: 'registered_key.updated', actor, subject: kid, details: changes, requestId });
    return this.map(row);
  }

  async remove(tenantId: string, kid: string, actor: string, requestId?: string): Promise<void> {
    if (!(await this.repository.softDelete(tenantId, kid))) throw new AppException(ErrorCode.NOT_FOUND, 'Registered key not found');
    await this.audit.record({ tenantId, type: 'registered_key.deleted', actor, subject: kid, requestId });
  }

  /** The tenant's active keys as a JWKS (RFC 7517 §5). */
  async jwks(tenantId: string): Promise<JwksResponseDto> {
    await this.tenants.settings(tenantId);
    const keys = await this.repository.listActive(tenantId);
    return { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.algorithm, use: 'sig' as const })) };
  }

  /** For token verification: an active key of a live, enabled tenant, or undefined. */
  async findActiveKey(kid: string): Promise<ActiveRegisteredKey | undefined> {
    const row = await this.repository.findActiveByKid(kid);
    if (!row) return undefined;
    return { kid: row.kid, tenantId: row.tenantId, algorithm: row.algorithm, keyObject: createPublicKey({ key: row.publicJwk, format: 'jwk' }) };
  }

  private parse(dto: CreateRegisteredKeyDto): ParsedPublicKey {
    try {
      return parsePublicKey(dto);
    } catch (error) {
      // Only our own messages reach the client; they never quote the submitted key.
      if (error instanceof PublicKeyError) throw new AppException(ErrorCode.VALIDATION_FAILED, `Invalid request: ${error.message}`);
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid request: the key could not be read');
    }
  }

  private foundOrThrow(row: RegisteredKeyEntity | null): RegisteredKeyEntity {
    if (!row) throw new AppException(ErrorCode.NOT_FOUND, 'Registered key not found');
    return row;
  }

  private map(k: RegisteredKeyEntity): RegisteredKeyResponseDto {
    return { kid: k.kid, label: k.label, algorithm: k.algorithm, active: k.isActive, fingerprint: k.fingerprint, createdAt: k.createdAt.toISOString() };
  }
}
