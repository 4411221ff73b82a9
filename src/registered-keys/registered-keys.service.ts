import { createPublicKey, KeyObject } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { isUniqueViolation } from '../common/errors/database-errors';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { TenantsService } from '../tenants/tenants.service';
import { CreateRegisteredKeyDto } from './dto/create-registered-key.dto';
import { JwksResponseDto, RegisteredKeyResponseDto } from './dto/registered-key-response.dto';
import { UpdateRegisteredKeyDto } from './dto/update-registered-key.dto';
import { KeyProofError, verifyKeyProof } from './key-proof';
import { parsePublicKey, ParsedPublicKey, PublicKeyError, RegisteredKeyAlgorithm, storedKeyProblem } from './public-key';
import { RegisteredKeyEntity } from './registered-key.entity';
import { DisplacedKey, RegisteredKeysRepository } from './registered-keys.repository';

/** What token verification needs about a registered key. */
export interface ActiveRegisteredKey {
  kid: string;
  tenantId: string;
  algorithm: RegisteredKeyAlgorithm;
  keyObject: KeyObject;
}

/** Told the kid of a key that stopped verifying here (deactivated, deleted, displaced), after the change is committed. */
export type RegisteredKeyChangeListener = (kid: string) => void;

@Injectable()
export class RegisteredKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger('RegisteredKeys');
  private readonly listeners: RegisteredKeyChangeListener[] = [];

  constructor(
    private readonly repository: RegisteredKeysRepository,
    private readonly tenants: TenantsService,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Keys stored before the key rules tightened (or written past the API) stop verifying before the first request. */
  async onApplicationBootstrap(): Promise<void> {
    await this.disableNonCompliantKeys();
  }

  /** Verification caches subscribe, so that this replica stops using a key on the next request. */
  onKeyChanged(listener: RegisteredKeyChangeListener): void {
    this.listeners.push(listener);
  }

  async register(tenantId: string, dto: CreateRegisteredKeyDto, actor: string, requestId?: string): Promise<RegisteredKeyResponseDto> {
    await this.tenants.settings(tenantId);
    const parsed = this.parse(dto);
    const proven = dto.proof !== undefined;
    if (proven) this.checkProof(dto.proof!, tenantId, parsed, dto.algorithm);
    const cap = this.config.maxRegisteredKeysPerTenant;
    let outcome;
    try {
      outcome = await this.repository.insertWithinCap(
        {
          kid: parsed.kid,
          tenantId,
          label: dto.label,
          algorithm: dto.algorithm,
          publicJwk: parsed.publicJwk,
          fingerprint: parsed.fingerprint,
          proven,
        },
        cap,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw await this.conflict(error, tenantId, parsed.kid, proven);
      throw error;
    }
    if (outcome === 'signing_key') {
      throw new AppException(
        ErrorCode.CONFLICT,
        "This public key is one of Tessera's own signing keys (in /.well-known/jwks.json): register your backend's public key",
      );
    }
    if (outcome === 'cap_reached')
      throw new AppException(ErrorCode.CONFLICT, `This tenant already has ${cap} registered keys, the most allowed: delete one first`);
    const { row, displaced } = outcome;
    if (displaced.length > 0) this.changed(row.kid);
    await this.audit.record({
      tenantId,
      type: 'registered_key.created',
      actor,
      subject: row.kid,
      details: {
        label: row.label,
        algorithm: row.algorithm,
        fingerprint: row.fingerprint,
        proven,
        ...(displaced.length > 0 ? { displacedUnprovenRegistrations: displaced.length } : {}),
      },
      requestId,
    });
    await this.recordDisplaced(row.kid, displaced, requestId);
    return this.map(row);
  }

  /**
   * The 409 for a kid that cannot be inserted, saying why and what to do. Another tenant's id
   * is never named: that a public key is registered somewhere is all the caller learns.
   */
  private async conflict(error: unknown, tenantId: string, kid: string, proven: boolean): Promise<AppException> {
    if (isUniqueViolation(error, 'registered_keys_pkey')) {
      const { own } = await this.repository.holders(tenantId, kid);
      if (own?.displaced) {
        return new AppException(
          ErrorCode.CONFLICT,
          `This public key (kid ${kid}) was taken over by a registration that proved possession of its private key; it cannot be registered here again`,
        );
      }
      // The primary key survives a delete: a deleted key stays revoked for good.
      return new AppException(
        ErrorCode.CONFLICT,
        `This public key is already registered (kid ${kid}); a key that was deleted cannot be registered again, generate a new key pair`,
      );
    }
    const { provenElsewhere } = await this.repository.holders(tenantId, kid);
    if (provenElsewhere || proven) {
      return new AppException(
        ErrorCode.CONFLICT,
        `This public key (kid ${kid}) is already registered with a proof of possession of its private key; it cannot be registered again, generate a new key pair`,
      );
    }
    return new AppException(
      ErrorCode.CONFLICT,
      `This public key (kid ${kid}) is already registered without a proof. If you hold its private key, register it with a "proof" ` +
        '(docs/adr/0012-registered-key-proof.md): a proven registration takes the key over',
    );
  }

  private async recordDisplaced(kid: string, displaced: DisplacedKey[], requestId?: string): Promise<void> {
    for (const d of displaced) {
      this.logger.warn({ msg: 'Unproven registered key displaced by a proven registration of another tenant', kid, tenantId: d.tenantId });
      await this.audit.record({
        tenantId: d.tenantId,
        type: 'registered_key.displaced',
        actor: 'system',
        subject: kid,
        details: { reason: 'another tenant registered this key with a proof of possession', wasLive: d.wasLive },
        requestId,
      });
    }
  }

  async list(tenantId: string, limit: number, offset: number): Promise<RegisteredKeyResponseDto[]> {
    await this.tenants.settings(tenantId);
    return (await this.repository.listLive(tenantId, limit, offset)).map((k) => this.map(k));
  }

  async get(tenantId: string, kid: string): Promise<RegisteredKeyResponseDto> {
    return this.map(this.foundOrThrow(await this.repository.findLive(tenantId, kid)));
  }

  async update(
    tenantId: string,
    kid: string,
    dto: UpdateRegisteredKeyDto,
    actor: string,
    requestId?: string,
  ): Promise<RegisteredKeyResponseDto> {
    if (dto.active === true) {
      // A key disabled for failing the key rules (e.g. a huge RSA exponent) stays off.
      const current = this.foundOrThrow(await this.repository.findLive(tenantId, kid));
      const problem = storedKeyProblem(current.publicJwk, current.algorithm);
      if (problem)
        throw new AppException(
          ErrorCode.VALIDATION_FAILED,
          `Invalid request: this key cannot be switched on: ${problem}; register a new key`,
        );
    }
    const values = {
      ...(dto.label === undefined ? {} : { label: dto.label }),
      ...(dto.active === undefined ? {} : { isActive: dto.active }),
    };
    const row = this.foundOrThrow(await this.repository.update(tenantId, kid, values));
    if (dto.active === false) this.changed(kid);
    // The fields the request set, with their new values (an empty PATCH changes nothing and is not recorded).
    const changes = {
      ...(dto.label === undefined ? {} : { label: dto.label }),
      ...(dto.active === undefined ? {} : { active: dto.active }),
    };
    if (Object.keys(changes).length > 0)
      await this.audit.record({ tenantId, type: 'registered_key.updated', actor, subject: kid, details: changes, requestId });
    return this.map(row);
  }

  async remove(tenantId: string, kid: string, actor: string, requestId?: string): Promise<void> {
    if (!(await this.repository.softDelete(tenantId, kid))) throw new AppException(ErrorCode.NOT_FOUND, 'Registered key not found');
    this.changed(kid);
    await this.audit.record({ tenantId, type: 'registered_key.deleted', actor, subject: kid, requestId });
  }

  /**
   * The keys that verify the tenant's tokens now, as a JWKS (RFC 7517 §5). A disabled or
   * deleted tenant has none: 200 with an empty set rather than 404, because a consumer's
   * key cache (the guard's among them) keeps its keys through a failed fetch, and would trust
   * the tenant's keys for ever; an empty document is what makes it drop them. Only an id that
   * never named a tenant is 404.
   */
  async jwks(tenantId: string): Promise<JwksResponseDto> {
    const keys = await this.repository.listPublished(tenantId);
    if (keys.length === 0 && !(await this.repository.tenantEverExisted(tenantId)))
      throw new AppException(ErrorCode.NOT_FOUND, 'Tenant not found');
    return { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.algorithm, use: 'sig' as const })) };
  }

  /** For token verification: an active key of a live, enabled tenant that passes the key rules, or undefined. */
  async findActiveKey(kid: string): Promise<ActiveRegisteredKey | undefined> {
    const row = await this.repository.findActiveByKid(kid);
    if (!row) return undefined;
    // Defence in depth behind the start-up check: a row written past the API (or by an older
    // version) with, say, a huge RSA exponent never reaches a signature check.
    if (storedKeyProblem(row.publicJwk, row.algorithm)) return undefined;
    return {
      kid: row.kid,
      tenantId: row.tenantId,
      algorithm: row.algorithm,
      keyObject: createPublicKey({ key: row.publicJwk, format: 'jwk' }),
    };
  }

  /**
   * At start: switches off every active key that fails today's key rules (RSA modulus 2048 to
   * 4096 bits, exponent odd from 3 to 2^32 - 1), with one log line each naming the kid, the
   * tenant and the rule, never the key. Idempotent: every replica may run it.
   */
  async disableNonCompliantKeys(): Promise<number> {
    let disabled = 0;
    for (const row of await this.repository.listActiveRsa()) {
      const problem = storedKeyProblem(row.publicJwk, row.algorithm);
      if (!problem || !(await this.repository.deactivate(row.tenantId, row.kid))) continue;
      disabled++;
      this.changed(row.kid);
      this.logger.warn({
        msg: 'Disabled a registered key that fails the key rules',
        kid: row.kid,
        tenantId: row.tenantId,
        reason: problem,
      });
      await this.audit.record({
        tenantId: row.tenantId,
        type: 'registered_key.disabled',
        actor: 'system',
        subject: row.kid,
        details: { reason: problem },
      });
    }
    return disabled;
  }

  private checkProof(proof: string, tenantId: string, parsed: ParsedPublicKey, algorithm: string): void {
    try {
      verifyKeyProof(proof, { tenantId, jkt: parsed.kid, algorithm, keyObject: parsed.keyObject }, this.clock.nowSeconds());
    } catch (error) {
      if (error instanceof KeyProofError) throw new AppException(ErrorCode.VALIDATION_FAILED, `Invalid request: ${error.message}`);
      throw error;
    }
  }

  private changed(kid: string): void {
    for (const listener of this.listeners) listener(kid);
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
    return {
      kid: k.kid,
      label: k.label,
      algorithm: k.algorithm,
      active: k.isActive,
      fingerprint: k.fingerprint,
      createdAt: k.createdAt.toISOString(),
      proven: k.proven,
    };
  }
}
