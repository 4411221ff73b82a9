import { applyDecorators, Header, HttpCode, Post, Type } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { API_KEY_SECURITY } from '../auth/api-key.decorators';
import { OAuthErrorResponseDto } from '../common/http/error-response.dto';

/** What every /oauth/* POST shares: 200, no caching, form or JSON body, client_secret_basic, 429. */
export function OAuthEndpoint(path: string, body: Type<unknown>, tooMany: string) {
  return applyDecorators(
    Post(path),
    HttpCode(200),
    Header('Cache-Control', 'no-store'),
    ApiConsumes('application/x-www-form-urlencoded', 'application/json'),
    ApiBody({ type: body }),
    ApiBasicAuth('client-basic'),
    ApiTooManyRequestsResponse({ type: OAuthErrorResponseDto, description: tooMany }),
  );
}

/** Revocation and introspection: the caller is a tenant, by X-Api-Key or by one of its clients. */
export function TenantCallerEndpoint(path: string, body: Type<unknown>) {
  return applyDecorators(
    OAuthEndpoint(path, body, 'Too many requests or failed authentications, with Retry-After'),
    ApiSecurity(API_KEY_SECURITY),
    ApiBadRequestResponse({
      type: OAuthErrorResponseDto,
      description: 'invalid_request: token missing or sent twice, two authentication methods',
    }),
    ApiUnauthorizedResponse({
      type: OAuthErrorResponseDto,
      description: 'invalid_client: no, wrong or admin credentials, or a refused client_assertion',
    }),
    ApiServiceUnavailableResponse({ type: OAuthErrorResponseDto, description: 'temporarily_unavailable: the database cannot be reached' }),
  );
}
