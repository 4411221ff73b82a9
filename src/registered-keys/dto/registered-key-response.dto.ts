import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REGISTERED_KEY_ALGORITHMS, type RegisteredKeyAlgorithm } from '../public-key';

export class RegisteredKeyResponseDto {
  @ApiProperty({
    example: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    description: 'RFC 7638 JWK thumbprint (SHA-256); the `kid` of tokens signed with this key',
  })
  kid: string;
  @ApiProperty({ example: 'orders backend 2026' })
  label: string;
  @ApiProperty({ enum: REGISTERED_KEY_ALGORITHMS, example: 'RS256' })
  algorithm: RegisteredKeyAlgorithm;
  @ApiProperty({ example: true })
  active: boolean;
  @ApiProperty({ example: '3A:91:…:0F', description: 'SHA-256 of the SubjectPublicKeyInfo DER, upper-case hex pairs joined by colons' })
  fingerprint: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({
    example: true,
    description:
      'The registration carried a proof of possession; an unproven key gives way to a proven registration of the same key by another tenant',
  })
  proven: boolean;
}

export class JwkResponseDto {
  @ApiProperty({ enum: ['RSA', 'EC', 'OKP'] })
  kty: string;
  @ApiProperty()
  kid: string;
  @ApiProperty({ enum: REGISTERED_KEY_ALGORITHMS })
  alg: string;
  @ApiProperty({ example: 'sig' })
  use: 'sig';
  @ApiPropertyOptional({ description: 'RSA modulus' })
  n?: string;
  @ApiPropertyOptional({ description: 'RSA exponent' })
  e?: string;
  @ApiPropertyOptional({ enum: ['P-256', 'P-384', 'Ed25519'] })
  crv?: string;
  @ApiPropertyOptional()
  x?: string;
  @ApiPropertyOptional()
  y?: string;
}

export class JwksResponseDto {
  @ApiProperty({ type: [JwkResponseDto] })
  keys: JwkResponseDto[];
}
