import { Body, Controller, Header, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { TenantAccess } from '../auth/api-key.decorators';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { UuidParam } from '../common/http/uuid-param.pipe';
import { IssueTokenDto } from './dto/issue-token.dto';
import { IssuedTokenResponseDto } from './dto/token-response.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@Controller('v1/tenants/:tenantId/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @TenantAccess()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Issue an access token (RFC 9068 JWT) and, unless refreshToken is false, a refresh token for a subject of the tenant',
  })
  @ApiCreatedResponse({ type: IssuedTokenResponseDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description:
      'VALIDATION_FAILED: accessTokenTtl outside 10..accessTokenMaxTtl, reserved or oversized claims, unknown clientId, scope outside the client’s scopes, bad audience',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant' })
  @ApiHeader({
    name: 'DPoP',
    required: false,
    description: 'RFC 9449 proof (htm POST, htu this URL): the tokens are bound to its key; token_type DPoP',
  })
  @ApiUnauthorizedResponse({
    type: ErrorResponseDto,
    description: 'INVALID_DPOP_PROOF or USE_DPOP_NONCE (with DPoP-Nonce), WWW-Authenticate: DPoP',
  })
  issue(
    @Param('tenantId', UuidParam) tenantId: string,
    @Body() dto: IssueTokenDto,
    @Req() request: FastifyRequest,
  ): Promise<IssuedTokenResponseDto> {
    return this.tokens.issue(tenantId, dto, request);
  }
}
