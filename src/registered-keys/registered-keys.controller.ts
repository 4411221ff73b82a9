import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { TenantAccess } from '../auth/api-key.decorators';
import { actorOf, Caller, CurrentCaller } from '../auth/caller';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { UuidParam } from '../common/http/uuid-param.pipe';
import { PublicDocument } from '../common/rate-limit/rate-limit';
import { CreateRegisteredKeyDto } from './dto/create-registered-key.dto';
import { JwksResponseDto, RegisteredKeyResponseDto } from './dto/registered-key-response.dto';
import { UpdateRegisteredKeyDto } from './dto/update-registered-key.dto';
import { RegisteredKeysService } from './registered-keys.service';

/** Public keys a tenant registers so that tokens its backend signs are accepted (the Ampersand flow). */
@ApiTags('jwt-keys')
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant or key' })
@Controller('v1/tenants/:tenantId')
export class RegisteredKeysController {
  constructor(private readonly keys: RegisteredKeysService) {}

  @Post('jwt-keys')
  @TenantAccess()
  @ApiOperation({
    summary: 'Register a public key (PEM or JWK); its kid is the RFC 7638 thumbprint',
    description:
      'With `proof` (a JWS signed by the key over this tenant id and the thumbprint) the key is proven, and takes over an unproven registration of the same key by another tenant. ' +
      'Without it the key is unproven: it works until another tenant proves it (docs/adr/0012-registered-key-proof.md).',
  })
  @ApiCreatedResponse({ type: RegisteredKeyResponseDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description:
      'VALIDATION_FAILED: unreadable or private key, wrong type or size for the algorithm (RSA: 2048-4096 bits, odd e from 3 to 2^32 - 1), bad label, a proof that does not check out',
  })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description:
      'CONFLICT: this tenant already registered the key (deleted or not), another tenant holds it (send a proof to take over an unproven registration) or proved it, or the tenant has reached its key limit',
  })
  register(
    @Param('tenantId', UuidParam) tenantId: string,
    @Body() dto: CreateRegisteredKeyDto,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<RegisteredKeyResponseDto> {
    return this.keys.register(tenantId, dto, actorOf(caller), request.id);
  }

  @Get('jwt-keys')
  @TenantAccess()
  @ApiOperation({ summary: 'List the tenant’s registered keys (not deleted), oldest first' })
  @ApiOkResponse({ type: [RegisteredKeyResponseDto] })
  list(@Param('tenantId', UuidParam) tenantId: string, @Query() page: PaginationQueryDto): Promise<RegisteredKeyResponseDto[]> {
    return this.keys.list(tenantId, page.limit, page.offset);
  }

  @Get('jwt-keys/:kid')
  @TenantAccess()
  @ApiOperation({ summary: 'Read one registered key' })
  @ApiOkResponse({ type: RegisteredKeyResponseDto })
  get(@Param('tenantId', UuidParam) tenantId: string, @Param('kid') kid: string): Promise<RegisteredKeyResponseDto> {
    return this.keys.get(tenantId, kid);
  }

  @Patch('jwt-keys/:kid')
  @TenantAccess()
  @ApiOperation({ summary: 'Rename a key, or switch it off and on (an inactive key verifies nothing)' })
  @ApiOkResponse({ type: RegisteredKeyResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED' })
  update(
    @Param('tenantId', UuidParam) tenantId: string,
    @Param('kid') kid: string,
    @Body() dto: UpdateRegisteredKeyDto,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<RegisteredKeyResponseDto> {
    return this.keys.update(tenantId, kid, dto, actorOf(caller), request.id);
  }

  @Delete('jwt-keys/:kid')
  @TenantAccess()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key for good: tokens signed with it fail from now on, and it cannot be registered again' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(
    @Param('tenantId', UuidParam) tenantId: string,
    @Param('kid') kid: string,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.keys.remove(tenantId, kid, actorOf(caller), request.id);
  }

  @Get('jwks.json')
  @PublicDocument()
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({
    summary: 'The tenant’s active registered keys as a JWKS (public, no API key)',
    description:
      'A disabled or deleted tenant has no keys: 200 `{"keys": []}`, so that consumers’ key caches drop them; 404 only for an id that never named a tenant.',
  })
  @ApiOkResponse({ type: JwksResponseDto })
  jwks(@Param('tenantId', UuidParam) tenantId: string): Promise<JwksResponseDto> {
    return this.keys.jwks(tenantId);
  }
}
