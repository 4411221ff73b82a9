import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

export class RotateQueryDto {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Emergency rotation for a compromised key: the active key is retired at once and its tokens stop verifying',
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'immediate must be true or false' })
  immediate: boolean = false;
}
