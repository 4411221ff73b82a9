import { ApiProperty } from '@nestjs/swagger';

export class TenantResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ example: 'acme' })
  name: string;
  @ApiProperty({ example: false })
  disabled: boolean;
  @ApiProperty({ example: 600 })
  accessTokenMaxTtl: number;
  @ApiProperty({ example: 600 })
  registeredTokenMaxTtl: number;
  @ApiProperty({ example: false, description: 'Tokens are issued DPoP-bound only (RFC 9449)' })
  requireDpop: boolean;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}
