import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
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
import { CreateTrustedIssuerDto } from './dto/create-trusted-issuer.dto';
import { TrustedIssuerResponseDto } from './dto/trusted-issuer-response.dto';
import { TrustedIssuersService } from './trusted-issuers.service';

/** External issuers (Kubernetes, GitHub Actions, SPIFFE) whose tokens authenticate as one of the tenant's clients. */
@ApiTags('trusted-issuers')
@TenantAccess()
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant or entry' })
@Controller('v1/tenants/:tenantId/trusted-issuers')
export class TrustedIssuersController {
  constructor(private readonly trustedIssuers: TrustedIssuersService) {}

  @Post()
  @ApiOperation({
    summary:
      'Trust an external issuer: its tokens (as client_assertion or jwt-bearer assertion) authenticate as one of the tenant’s clients',
    description:
      'A token whose iss equals `issuer`, signed by a key of `jwksUri` (else of the issuer’s OpenID discovery document), whose aud names ' +
      '`audience`, whose sub matches `subject` and whose claims equal `claims` authenticates as `clientId`, with `scopes` (else the client’s) at most.',
  })
  @ApiCreatedResponse({ type: TrustedIssuerResponseDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description:
      'VALIDATION_FAILED: not https, an internal address (docs/adr/0020), bad subject pattern or claims, unknown client, scopes outside the client’s',
  })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'CONFLICT: the same entry exists, or the tenant holds 100 entries' })
  create(
    @Param('tenantId', UuidParam) tenantId: string,
    @Body() dto: CreateTrustedIssuerDto,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<TrustedIssuerResponseDto> {
    return this.trustedIssuers.create(tenantId, dto, actorOf(caller), request.id);
  }

  @Get()
  @ApiOperation({ summary: 'List the tenant’s trusted issuer entries, oldest first' })
  @ApiOkResponse({ type: [TrustedIssuerResponseDto] })
  list(@Param('tenantId', UuidParam) tenantId: string, @Query() page: PaginationQueryDto): Promise<TrustedIssuerResponseDto[]> {
    return this.trustedIssuers.list(tenantId, page.limit, page.offset);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one trusted issuer entry' })
  @ApiOkResponse({ type: TrustedIssuerResponseDto })
  get(@Param('tenantId', UuidParam) tenantId: string, @Param('id', UuidParam) id: string): Promise<TrustedIssuerResponseDto> {
    return this.trustedIssuers.get(tenantId, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an entry: its tokens stop authenticating on the next request' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(
    @Param('tenantId', UuidParam) tenantId: string,
    @Param('id', UuidParam) id: string,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.trustedIssuers.remove(tenantId, id, actorOf(caller), request.id);
  }
}
