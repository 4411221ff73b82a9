import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly, TenantAccess } from '../auth/api-key.decorators';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { UuidParam } from '../common/http/uuid-param.pipe';
import { CreateTenantDto } from './dto/create-tenant.dto';
import { TenantResponseDto } from './dto/tenant-response.dto';
import { UpdateTenantDto } from './dto/update-tenant.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED' })
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a tenant' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'CONFLICT: a live tenant has that name' })
  create(@Body() dto: CreateTenantDto): Promise<TenantResponseDto> {
    return this.tenants.create(dto);
  }

  @Get()
  @AdminOnly()
  @ApiOperation({ summary: 'List live tenants, oldest first' })
  list(@Query() page: PaginationQueryDto): Promise<TenantResponseDto[]> {
    return this.tenants.list(page.limit, page.offset);
  }

  @Get(':tenantId')
  @TenantAccess()
  @ApiOperation({ summary: 'Read a tenant (the admin, or an API key of that tenant)' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND' })
  get(@Param('tenantId', UuidParam) tenantId: string): Promise<TenantResponseDto> {
    return this.tenants.get(tenantId);
  }

  @Patch(':tenantId')
  @AdminOnly()
  @ApiOperation({ summary: 'Rename, disable/enable, or change TTL limits' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'CONFLICT: a live tenant has that name' })
  update(@Param('tenantId', UuidParam) tenantId: string, @Body() dto: UpdateTenantDto): Promise<TenantResponseDto> {
    return this.tenants.update(tenantId, dto);
  }

  @Delete(':tenantId')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ summary: 'Soft-delete a tenant: disables it, revokes its API keys, refuses its tokens' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND' })
  async remove(@Param('tenantId', UuidParam) tenantId: string): Promise<void> {
    await this.tenants.remove(tenantId);
  }
}
