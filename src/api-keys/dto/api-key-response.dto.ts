import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ nullable: true, example: 'orders backend', type: String })
  label: string | null;
  @ApiProperty({ example: 'tsk_3f9a1c0b2d4e', description: 'Visible part of the key, to tell keys apart' })
  prefix: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiPropertyOptional({ example: 'tsk_3f9a1c0b2d4e_…', description: 'The key itself: shown in this answer only, store it now' })
  key: string;
}
