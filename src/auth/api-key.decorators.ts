import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiForbiddenResponse, ApiSecurity, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { API_KEY_ACCESS, ApiKeyAccess, ApiKeyGuard } from './api-key.guard';

export const API_KEY_SECURITY = 'api-key';

function requireApiKey(access: ApiKeyAccess, forbidden: string) {
  return applyDecorators(
    SetMetadata(API_KEY_ACCESS, access),
    UseGuards(ApiKeyGuard),
    ApiSecurity(API_KEY_SECURITY),
    ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'UNAUTHENTICATED: X-Api-Key missing, unknown or revoked' }),
    ApiForbiddenResponse({ type: ErrorResponseDto, description: forbidden }),
    ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'RATE_LIMITED, with Retry-After' }),
  );
}

/** Only `ADMIN_API_KEY` may call this route. */
export const AdminOnly = () => requireApiKey('admin', 'ADMIN_REQUIRED: a tenant key was used');

/** The admin key, or an API key of the tenant named by `:tenantId`. */
export const TenantAccess = () => requireApiKey('tenant', 'TENANT_FORBIDDEN: the key belongs to another tenant, or the tenant is disabled');
