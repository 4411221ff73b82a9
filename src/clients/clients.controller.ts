import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
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
import { ClientsService } from './clients.service';
import { ClientResponseDto, CreatedClientResponseDto } from './dto/client-response.dto';
import { CreateClientDto } from './dto/create-client.dto';

/** OAuth clients of a tenant, for the client_credentials grant. */
@ApiTags('clients')
@TenantAccess()
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant or client' })
@Controller('v1/tenants/:tenantId/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @ApiOperation({ summary: 'Create an OAuth client; its secret is shown in this answer only' })
  @ApiCreatedResponse({ type: CreatedClientResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED: bad name or scopes' })
  create(
    @Param('tenantId', UuidParam) tenantId: string,
    @Body() dto: CreateClientDto,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<CreatedClientResponseDto> {
    return this.clients.create(tenantId, dto, actorOf(caller), request.id);
  }

  @Get()
  @ApiOperation({ summary: 'List the tenant’s live clients, oldest first (no secrets)' })
  @ApiOkResponse({ type: [ClientResponseDto] })
  list(@Param('tenantId', UuidParam) tenantId: string, @Query() page: PaginationQueryDto): Promise<ClientResponseDto[]> {
    return this.clients.list(tenantId, page.limit, page.offset);
  }

  @Delete(':clientId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a client: its credentials stop working at once; its id is never reused' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(
    @Param('tenantId', UuidParam) tenantId: string,
    @Param('clientId') clientId: string,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.clients.remove(tenantId, clientId, actorOf(caller), request.id);
  }
}
