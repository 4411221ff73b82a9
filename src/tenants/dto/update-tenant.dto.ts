import { ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { CreateTenantDto } from './create-tenant.dto';

export class UpdateTenantDto extends PartialType(CreateTenantDto) {
  @ApiPropertyOptional({ example: false, description: 'A disabled tenant’s API keys, clients and tokens are refused' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
