import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class UpdateRegisteredKeyDto {
  @ApiPropertyOptional({ example: 'orders backend 2026', maxLength: 100 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ example: false, description: 'An inactive key stays registered but verifies nothing and leaves the JWKS' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}
