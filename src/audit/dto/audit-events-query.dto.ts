import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../common/http/pagination.dto';

/** Event names are dotted lower-case words (`api_key.created`). */
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

export class AuditEventsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: 'api_key.created', maxLength: 64, description: 'Only events of this exact type' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(EVENT_TYPE, { message: 'type must be an event name such as api_key.created' })
  type?: string;
}

export class AdminAuditEventsQueryDto extends AuditEventsQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only events of this tenant' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}
