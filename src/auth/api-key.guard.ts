import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { ApiKeyAuthRepository } from './api-key-auth.repository';
import { apiKeyPrefix, hashSecret, secretMatches } from './api-key-format';
import { Caller, RequestWithCaller } from './caller';
import { CredentialFailureLimiter } from './credential-failure-limiter';

export const API_KEY_ACCESS = 'tessera:api-key-access';
export type ApiKeyAccess = 'admin' | 'tenant';

/**
 * Resolves `X-Api-Key` to the admin or to a tenant, and enforces the route's access:
 * admin-only routes refuse tenant keys (403 ADMIN_REQUIRED); tenant routes admit the
 * admin and that tenant's own keys only (403 TENANT_FORBIDDEN).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly adminKeyHash: Buffer;

  constructor(
    private readonly reflector: Reflector,
    private readonly repository: ApiKeyAuthRepository,
    private readonly limiter: CredentialFailureLimiter,
    config: AppConfig,
  ) {
    this.adminKeyHash = hashSecret(config.adminApiKey);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<ApiKeyAccess>(API_KEY_ACCESS, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithCaller>();
    const caller = await this.authenticate(request);
    request.caller = caller;
    if (caller.kind === 'admin') return true;
    if (access === 'admin') throw new AppException(ErrorCode.ADMIN_REQUIRED);
    const tenantId = (request.params as Record<string, string> | undefined)?.tenantId;
    if (tenantId !== undefined && tenantId !== caller.tenantId) throw new AppException(ErrorCode.TENANT_FORBIDDEN);
    return true;
  }

  /** Shared with endpoints that accept an API key among other credentials (/oauth/*). */
  async authenticate(request: FastifyRequest): Promise<Caller> {
    const header = request.headers['x-api-key'];
    const presented = Array.isArray(header) ? header[0] : header;
    if (!presented) throw new AppException(ErrorCode.UNAUTHENTICATED);
    this.limiter.assertAllowed(request.ip);

    if (secretMatches(presented, this.adminKeyHash)) return { kind: 'admin' };
    const prefix = apiKeyPrefix(presented);
    const credential = prefix ? await this.repository.findLiveByPrefix(prefix) : undefined;
    if (!credential || !secretMatches(presented, credential.keyHash)) {
      this.limiter.recordFailure(request.ip);
      throw new AppException(ErrorCode.UNAUTHENTICATED, 'X-Api-Key is missing, unknown or revoked');
    }
    if (credential.isTenantDisabled) throw new AppException(ErrorCode.TENANT_FORBIDDEN, 'Tenant is disabled');
    return { kind: 'tenant', tenantId: credential.tenantId, apiKeyId: credential.id };
  }
}
