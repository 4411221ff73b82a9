import { All, Controller, Get, Header, HttpCode, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { PublicDocument } from '../common/rate-limit/rate-limit';
import { ForwardAuthService } from './forward-auth.service';

/**
 * Forward-auth for gateways (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz over
 * HTTP). Rate limited as a public document (RATE_LIMIT_PUBLIC_PER_IP): every request behind a
 * gateway comes from the gateway's address.
 */
const VERIFY_PATH = '/v1/auth/verify';

@ApiTags('forward-auth')
@PublicDocument()
@Controller('v1/auth')
export class ForwardAuthController {
  constructor(private readonly forwardAuth: ForwardAuthService) {}

  @Get('verify')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Verify a bearer token for a gateway and answer its claims as headers',
    description:
      'Reads `Authorization: Bearer` (or the FORWARD_AUTH_COOKIE cookie). Accepts Tessera access tokens and tokens signed by a ' +
      'tenant-registered key; checks the denylist. The original request is read only from the headers of FORWARD_AUTH_SOURCE ' +
      '(nginx, the default: X-Original-Method / X-Original-URI; traefik: X-Forwarded-Method / X-Forwarded-Uri; headers:<m>,<u>); ' +
      'another known source naming a different request is refused (400 FORWARDED_REQUEST_CONFLICT). With FORWARD_AUTH_RULES_FILE, ' +
      'the first rule matching the method and path names the scopes required, and a path no rule names is refused (403). ' +
      'The 200 answer has an empty body and the claim headers of FORWARD_AUTH_HEADERS (default x-user-id, x-tenant-id, x-scope, x-client-id).',
  })
  @ApiHeader({ name: 'X-Original-Method', required: false, description: 'Method of the original request (FORWARD_AUTH_SOURCE=nginx)' })
  @ApiHeader({ name: 'X-Original-URI', required: false, description: 'URI of the original request (FORWARD_AUTH_SOURCE=nginx)' })
  @ApiHeader({ name: 'X-Forwarded-Method', required: false, description: 'Method of the original request (FORWARD_AUTH_SOURCE=traefik)' })
  @ApiHeader({ name: 'X-Forwarded-Uri', required: false, description: 'URI of the original request (FORWARD_AUTH_SOURCE=traefik)' })
  @ApiOkResponse({
    description: 'Token accepted; claims in headers',
    headers: {
      'x-user-id': { description: 'sub', schema: { type: 'string', example: 'user-42' } },
      'x-tenant-id': { description: 'tenant_id (for registered-key tokens: the key’s tenant)', schema: { type: 'string', format: 'uuid' } },
      'x-scope': { description: 'scope (space-separated)', schema: { type: 'string', example: 'orders:read' } },
      'x-client-id': { description: 'client_id', schema: { type: 'string', example: 'tcl_3f9a' } },
    },
  })
  @ApiUnauthorizedResponse({
    type: ErrorResponseDto,
    description:
      'MISSING_TOKEN, MALFORMED_TOKEN, INVALID_SIGNATURE, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, INVALID_ISSUER, INVALID_AUDIENCE, ' +
      'INVALID_TOKEN_TYPE, UNKNOWN_KEY, ALGORITHM_NOT_ALLOWED, TOKEN_REVOKED; with WWW-Authenticate: Bearer error="invalid_token"',
  })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description:
      'INSUFFICIENT_SCOPE: a rule requires a scope the token lacks, or no rule names the path; WWW-Authenticate: Bearer error="insufficient_scope"',
  })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'FORWARDED_REQUEST_CONFLICT: another source of the original request disagrees with FORWARD_AUTH_SOURCE',
  })
  @ApiResponse({ status: 414, type: ErrorResponseDto, description: 'FORWARDED_URI_TOO_LONG: the forwarded path is over 4096 characters' })
  @ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'RATE_LIMITED (RATE_LIMIT_PUBLIC_PER_IP)' })
  async verify(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    reply.headers(await this.forwardAuth.authorize(request.headers, { rawHeaders: request.raw.rawHeaders }));
  }

  /**
   * Envoy ext_authz over HTTP calls `path_prefix` + the original path with the original
   * method: with `path_prefix: /v1/auth/verify` and FORWARD_AUTH_SOURCE=envoy, the rules see
   * that method and path; under another source this form is refused (400).
   */
  @All('verify/*')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Forward-auth for Envoy ext_authz (HTTP): the original method and path follow /v1/auth/verify',
    description:
      'FORWARD_AUTH_SOURCE=envoy only (otherwise 400 FORWARDED_REQUEST_CONFLICT). Same answers as GET /v1/auth/verify; the scope rules are ' +
      'matched against this request’s method and the path after /v1/auth/verify.',
  })
  @ApiOkResponse({ description: 'Token accepted; claims in headers (see GET /v1/auth/verify)' })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'As GET /v1/auth/verify' })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: 'INSUFFICIENT_SCOPE' })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'FORWARDED_REQUEST_CONFLICT: FORWARD_AUTH_SOURCE is not envoy, or forwarded headers name another request',
  })
  async verifyOriginalPath(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const uri = request.url.slice(VERIFY_PATH.length) || '/';
    const pathForm = { method: request.method.toUpperCase(), uri };
    reply.headers(await this.forwardAuth.authorize(request.headers, { rawHeaders: request.raw.rawHeaders, pathForm }));
  }
}
