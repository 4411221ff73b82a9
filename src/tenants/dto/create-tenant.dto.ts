import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class CreateTenantDto {
  @ApiProperty({ example: 'acme', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    example: 600,
    minimum: 10,
    maximum: 86400,
    description: 'Longest access-token TTL a request may ask for, in seconds',
  })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86400)
  accessTokenMaxTtl?: number;

  @ApiPropertyOptional({
    example: 600,
    minimum: 10,
    maximum: 86400,
    description: 'Longest exp − iat accepted on tokens signed by this tenant’s registered keys, in seconds',
  })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86400)
  registeredTokenMaxTtl?: number;

  @ApiPropertyOptional({
    example: false,
    description: 'Issue DPoP-bound tokens only (RFC 9449): a token request without a DPoP proof is refused',
  })
  @IsOptional()
  @IsBoolean()
  requireDpop?: boolean;
}
