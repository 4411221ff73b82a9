import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { ApiKeyAuthenticator } from './api-key-authenticator.service';
import { RequestWithCaller } from './caller';

export const API_KEY_ACCESS = 'tessera:api-key-access';
export type ApiKeyAccess = 'admin' | 'tenant';

/**
 * Resolves `X-Api-Key` to the admin or to a tenant, and enforces the route's access:
 * admin-only routes refuse tenant keys (403 ADMIN_REQUIRED); tenant routes admit the
 * admin and that tenant's own keys only (403 TENANT_FORBIDDEN).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<ApiKeyAccess>(API_KEY_ACCESS, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithCaller>();
    const { caller, refusal } = await this.apiKeys.authenticate(request.headers['x-api-key'], request.ip);
    if (!caller) {
      if (refusal === 'missing') throw new AppException(ErrorCode.UNAUTHENTICATED);
      if (refusal === 'tenant_disabled') throw new AppException(ErrorCode.TENANT_FORBIDDEN, 'Tenant is disabled');
      throw new AppException(ErrorCode.UNAUTHENTICATED, 'X-Api-Key is missing, unknown or revoked');
    }
    request.caller = caller;
    if (caller.kind === 'admin') return true;
    if (access === 'admin') throw new AppException(ErrorCode.ADMIN_REQUIRED);
    const tenantId = (request.params as Record<string, string> | undefined)?.tenantId;
    if (tenantId !== undefined && tenantId !== caller.tenantId) throw new AppException(ErrorCode.TENANT_FORBIDDEN);
    return true;
  }
}
