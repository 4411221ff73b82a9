import { ApiProperty } from '@nestjs/swagger';

export class SubjectRevocationResponseDto {
  @ApiProperty({ format: 'uuid', example: '5b0c3d1e-8f1a-4c47-9d0e-1f2a3b4c5d6e' })
  tenantId: string;
  @ApiProperty({ example: 'user-42' })
  sub: string;
  @ApiProperty({
    format: 'date-time',
    example: '2026-11-25T16:04:05.123Z',
    description:
      'The cut-off: tokens of this subject with iat at or before this second are revoked (a token issued within the same second counts as before)',
  })
  notBefore: string;
}
