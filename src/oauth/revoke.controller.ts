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
import { RevokeRequestDto } from './dto/revoke-request.dto';
import { TokenRevocationService } from './token-revocation.service';

@ApiTags('oauth')
@Controller('oauth')
export class RevokeController {
  constructor(private readonly revocation: TokenRevocationService) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Token revocation (RFC 7009) for the caller’s tenant',
    description:
      'Authenticate with the tenant’s X-Api-Key or that tenant’s client credentials. A refresh token ends its family; an access token’s jti ' +
      'goes on the denylist until it expires (every replica within a second). Unknown, invalid or foreign tokens also answer 200 with an empty body.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: RevokeRequestDto })
  @ApiSecurity(API_KEY_SECURITY)
  @ApiBasicAuth('client-basic')
  @ApiOkResponse({ description: 'Revoked, or nothing to revoke (empty body)' })
  @ApiBadRequestResponse({ type: OAuthErrorResponseDto, description: 'invalid_request: token missing or sent twice, two authentication methods' })
  @ApiUnauthorizedResponse({ type: OAuthErrorResponseDto, description: 'invalid_client: no, wrong or admin credentials' })
  @ApiTooManyRequestsResponse({ type: OAuthErrorResponseDto, description: 'Too many requests or failed authentications, with Retry-After' })
  @ApiServiceUnavailableResponse({ type: OAuthErrorResponseDto, description: 'temporarily_unavailable: the database cannot be reached' })
  async revoke(@Req() request: FastifyRequest, @Body() body: unknown): Promise<void> {
    await this.revocation.handle(request, body);
  }
}
