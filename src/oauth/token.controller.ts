import { Body, Controller, Header, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { OAuthErrorResponseDto } from '../common/http/error-response.dto';
import { IssuedTokenResponseDto } from '../tokens/dto/token-response.dto';
import { TokenRequestDto } from './dto/token-request.dto';
import { TokenEndpointService } from './grants/token-endpoint.service';
import { OAuthEndpoint } from './oauth-endpoint.decorator';

@ApiTags('oauth')
@Controller('oauth')
export class TokenController {
  constructor(private readonly endpoint: TokenEndpointService) {}

  @OAuthEndpoint('token', TokenRequestDto, 'Too many requests or failed client authentications, with Retry-After')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'OAuth 2.0 token endpoint: client_credentials, refresh_token (rotation) and jwt-bearer (RFC 7523)',
    description:
      'Form (application/x-www-form-urlencoded) or JSON body. Client authentication: client_secret_basic, client_secret_post, or a client_assertion ' +
      '(private_key_jwt, or a token of a trusted issuer; also accepted as the jwt-bearer assertion). ' +
      'Errors follow RFC 6749 §5.2: {error, error_description}.',
  })
  @ApiOkResponse({ type: IssuedTokenResponseDto })
  @ApiBadRequestResponse({
    type: OAuthErrorResponseDto,
    description: 'invalid_request, invalid_grant, invalid_scope, unsupported_grant_type',
  })
  @ApiUnauthorizedResponse({
    type: OAuthErrorResponseDto,
    description: 'invalid_client (with WWW-Authenticate: Basic when Basic was used)',
  })
  token(@Req() request: FastifyRequest, @Body() body: unknown): Promise<IssuedTokenResponseDto> {
    return this.endpoint.handle(request, body);
  }
}
