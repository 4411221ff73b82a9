import { ApiProperty } from '@nestjs/swagger';
import { SIGNING_ALGORITHMS } from '../../config/env.schema';

const STATUSES = ['pending', 'active', 'retiring', 'retired'];

/** Metadata of one of Tessera's signing keys; the private half never leaves the service. */
export class SigningKeyResponseDto {
  @ApiProperty({ example: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', description: 'RFC 7638 JWK thumbprint' })
  kid: string;
  @ApiProperty({ enum: SIGNING_ALGORITHMS, example: 'RS256' })
  algorithm: string;
  @ApiProperty({ enum: STATUSES, example: 'active' })
  status: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ format: 'date-time', description: 'When the key signs (or started to)' })
  activatesAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  activatedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When it stopped signing' })
  retiringAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When it leaves the JWKS' })
  retireAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  retiredAt: string | null;
}

export class RotationResponseDto {
  @ApiProperty({ example: 'b1Wz0m3A0l7mHcN6vB9T3JQn0S3W4q0d2m9fQe8xk2U' })
  kid: string;
  @ApiProperty({
    enum: ['pending', 'active'],
    example: 'pending',
    description: '`active` only for ?immediate=true (or KEY_PUBLISH_DELAY=0)',
  })
  status: string;
  @ApiProperty({ format: 'date-time', description: 'When the new key starts signing' })
  activatesAt: string;
}
