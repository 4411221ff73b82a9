import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, TenantAccess } from '../auth/api-key.decorators';
import { ErrorResponseDto } from '../common/http/error-response.dto';
import { UuidParam } from '../common/http/uuid-param.pipe';
import { AuditService } from './audit.service';
import { AuditEventResponseDto } from './dto/audit-event-response.dto';
import { AdminAuditEventsQueryDto, AuditEventsQueryDto } from './dto/audit-events-query.dto';

/** The append-only log of security events. Read only: nothing in the API changes or deletes an event. */
@ApiTags('audit')
@ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED: bad limit, offset, type or tenantId' })
@Controller('v1')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('tenants/:tenantId/audit-events')
  @TenantAccess()
  @ApiOperation({
    summary: 'A tenant’s security events, newest first (a tenant key sees its own tenant, the admin any tenant, deleted ones too)',
  })
  @ApiOkResponse({ type: [AuditEventResponseDto] })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'NOT_FOUND: no such tenant' })
  listForTenant(@Param('tenantId', UuidParam) tenantId: string, @Query() query: AuditEventsQueryDto): Promise<AuditEventResponseDto[]> {
    return this.audit.listForTenant(tenantId, { type: query.type, limit: query.limit, offset: query.offset });
  }

  @Get('audit-events')
  @AdminOnly()
  @ApiOperation({ summary: 'Every security event, newest first, including those outside any tenant (signing keys); admin only' })
  @ApiOkResponse({ type: [AuditEventResponseDto] })
  list(@Query() query: AdminAuditEventsQueryDto): Promise<AuditEventResponseDto[]> {
    return this.audit.list({ tenantId: query.tenantId, type: query.type, limit: query.limit, offset: query.offset });
  }
}
