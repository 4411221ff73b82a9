import { Body, Controller, Header, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { IntrospectRequestDto } from './dto/introspect-request.dto';
import { IntrospectionResponseDto } from './dto/introspect-response.dto';
import { TenantCallerEndpoint } from './oauth-endpoint.decorator';
import { TokenIntrospectionService } from './token-introspection.service';

@ApiTags('oauth')
@Controller('oauth')
export class IntrospectController {
  constructor(private readonly introspection: TokenIntrospectionService) {}

  @TenantCallerEndpoint('introspect', IntrospectRequestDto)
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Token introspection (RFC 7662) for the caller’s tenant',
    description:
      'Authenticate with the tenant’s X-Api-Key or that tenant’s client credentials (client_secret_basic or client_secret_post). ' +
      'Form or JSON body. Anything expired, revoked, malformed, unknown, of another tenant, or a refresh token answers exactly {"active": false}.',
  })
  @ApiOkResponse({
    type: IntrospectionResponseDto,
    examples: {
      active: {
        summary: 'A token signed by a registered key (the Ampersand flow)',
        value: {
          active: true,
          sub: 'user-7',
          exp: 1764003600,
          iat: 1764003000,
          tenant_id: '6f1c2d9e-8b1a-4c1e-9d3a-2f5b7c9e1a2b',
          token_type: 'Bearer',
          groupRef: 'g-1',
          consumerRef: 'c-9',
        },
      },
      inactive: { summary: 'Anything Tessera does not vouch for', value: { active: false } },
    },
  })
  introspect(@Req() request: FastifyRequest, @Body() body: unknown): Promise<IntrospectionResponseDto> {
    return this.introspection.handle(request, body);
  }
}
