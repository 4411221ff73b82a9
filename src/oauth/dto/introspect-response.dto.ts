import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * RFC 7662 §2.2 answer. Inactive tokens answer exactly `{"active": false}`. Active tokens
 * signed by a registered key also carry their other claims (groupRef, consumerRef, …).
 */
export class IntrospectionResponseDto {
  @ApiProperty({ example: true })
  active: boolean;

  @ApiPropertyOptional({
    example: 'https://tessera.example.com',
    description: 'Present when the token has one (registered-key tokens may not)',
  })
  iss?: string;

  @ApiPropertyOptional({ example: 'user-42' })
  sub?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'https://tessera.example.com',
  })
  aud?: string | string[];

  @ApiPropertyOptional({ example: 1764003600 })
  exp?: number;

  @ApiPropertyOptional({ example: 1764003000 })
  iat?: number;

  @ApiPropertyOptional({ example: 1764003000 })
  nbf?: number;

  @ApiPropertyOptional({ example: '0f8e3c5a-5d1c-4c43-9a53-0b6f1c3f3e1d' })
  jti?: string;

  @ApiPropertyOptional({ example: 'orders:read' })
  scope?: string;

  @ApiPropertyOptional({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192' })
  client_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The token’s tenant (for registered-key tokens: the key’s tenant)' })
  tenant_id?: string;

  @ApiPropertyOptional({ example: 'Bearer' })
  token_type?: string;

  [claim: string]: unknown;
}
