import { Body, Controller, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { RevokeRequestDto } from './dto/revoke-request.dto';
import { TenantCallerEndpoint } from './oauth-endpoint.decorator';
import { TokenRevocationService } from './token-revocation.service';

@ApiTags('oauth')
@Controller('oauth')
export class RevokeController {
  constructor(private readonly revocation: TokenRevocationService) {}

  @TenantCallerEndpoint('revoke', RevokeRequestDto)
  @ApiOperation({
    summary: 'Token revocation (RFC 7009) for the caller’s tenant',
    description:
      'Authenticate with the tenant’s X-Api-Key or that tenant’s client credentials. A refresh token ends its family; an access token’s jti ' +
      'goes on the denylist until it expires (every replica within a second). Unknown, invalid or foreign tokens also answer 200 with an empty body. ' +
      'A client revokes only tokens issued to it (RFC 7009 §2.1; others: 400 unauthorized_client); the X-Api-Key revokes any token of the tenant. ' +
      'Past REVOCATION_MAX_JTIS_PER_TENANT revoked tokens still in force: 409 invalid_request, and the token stays valid.',
  })
  @ApiOkResponse({ description: 'Revoked, or nothing to revoke (empty body)' })
  async revoke(@Req() request: FastifyRequest, @Body() body: unknown): Promise<void> {
    await this.revocation.handle(request, body);
  }
}
