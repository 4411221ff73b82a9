import { Body, Controller, Header, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { API_KEY_SECURITY } from '../auth/api-key.decorators';
import { OAuthErrorResponseDto } from '../common/http/error-response.dto';
import { IntrospectRequestDto } from './dto/introspect-request.dto';
import { IntrospectionResponseDto } from './dto/introspect-response.dto';
import { TokenIntrospectionService } from './token-introspection.service';

@ApiTags('oauth')
@Controller('oauth')
export class IntrospectController {
  constructor(private readonly introspection: TokenIntrospectionService) {}

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Token introspection (RFC 7662) for the caller’s tenant',
    description:
      'Authenticate with the tenant’s X-Api-Key or that tenant’s client credentials (client_secret_basic or client_secret_post). ' +
      'Form or JSON body. Anything expired, revoked, malformed, unknown, of another tenant, or a refresh token answers exactly {"active": false}.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: IntrospectRequestDto })
  @ApiSecurity(API_KEY_SECURITY)
  @ApiBasicAuth('client-basic')
  @ApiOkResponse({
    type: IntrospectionResponseDto,
    examples: {
      active: {
        summary: 'A token signed by a registered key (the Ampersand flow)',
        value: { active: true, sub: 'user-7', exp: 1764003600, iat: 1764003000, tenant_id: '6f1c2d9e-8b1a-4c1e-9d3a-2f5b7c9e1a2b', token_type: 'Bearer', groupRef: 'g-1', consumerRef: 'c-9' },
      },
      inactive: { summary: 'Anything Tessera does not vouch for', value: { active: false } },
    },
  })
  @ApiBadRequestResponse({ type: OAuthErrorResponseDto, description: 'invalid_request: token missing or sent twice, two authentication methods' })
  @ApiUnauthorizedResponse({ type: OAuthErrorResponseDto, description: 'invalid_client: no, wrong or admin credentials' })
  @ApiTooManyRequestsResponse({ type: OAuthErrorResponseDto, description: 'Too many requests or failed authentications, with Retry-After' })
  @ApiServiceUnavailableResponse({ type: OAuthErrorResponseDto, description: 'temporarily_unavailable: the database cannot be reached' })
  introspect(@Req() request: FastifyRequest, @Body() body: unknown): Promise<IntrospectionResponseDto> {
    return this.introspection.handle(request, body);
  }
}
