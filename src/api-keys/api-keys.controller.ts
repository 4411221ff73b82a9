import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AdminOnly } from '../auth/api-key.decorators';
import { actorOf, Caller, CurrentCaller } from '../auth/caller';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { UuidParam } from '../common/http/uuid-param.pipe';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyResponseDto, CreatedApiKeyResponseDto } from './dto/api-key-response.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

@ApiTags('api-keys')
@AdminOnly()
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant or key' })
@Controller('v1/tenants/:tenantId/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key for a tenant; the key is shown in this answer only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED' })
  create(
    @Param('tenantId', UuidParam) tenantId: string,
    @Body() dto: CreateApiKeyDto,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<CreatedApiKeyResponseDto> {
    return this.apiKeys.create(tenantId, dto.label, actorOf(caller), request.id);
  }

  @Get()
  @ApiOperation({ summary: 'List a tenant’s live API keys (metadata only)' })
  list(@Param('tenantId', UuidParam) tenantId: string, @Query() page: PaginationQueryDto): Promise<ApiKeyResponseDto[]> {
    return this.apiKeys.list(tenantId, page.limit, page.offset);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key at once' })
  @ApiNoContentResponse({ description: 'Revoked' })
  async revoke(
    @Param('tenantId', UuidParam) tenantId: string,
    @Param('id', UuidParam) id: string,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.apiKeys.revoke(tenantId, id, actorOf(caller), request.id);
  }
}
