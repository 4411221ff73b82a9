import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The verified claims of the caller's access token, as Tessera's own guard hands them out. */
export class MeResponseDto {
  @ApiProperty({ example: 'https://tessera.example.com' })
  iss: string;

  @ApiPropertyOptional({ example: 'user-42' })
  sub?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'https://tessera.example.com',
  })
  aud?: string | string[];

  @ApiProperty({ example: 1764003600 })
  exp: number;

  @ApiPropertyOptional({ example: 1764003000 })
  iat?: number;

  @ApiPropertyOptional({ example: '0f8e3c5a-5d1c-4c43-9a53-0b6f1c3f3e1d' })
  jti?: string;

  @ApiPropertyOptional({ example: 'orders:read' })
  scope?: string;

  @ApiPropertyOptional({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192' })
  client_id?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  tenant_id?: string;

  [claim: string]: unknown;
}
