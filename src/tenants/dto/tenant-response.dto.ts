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
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}
