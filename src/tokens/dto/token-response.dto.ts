import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 6749 §5.1 names, as /oauth/token answers them. */
export class IssuedTokenResponseDto {
  @ApiProperty({
    example: 'eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.eyJpc3MiOiIuLi4ifQ.c2ln',
    description: 'RFC 9068 JWT access token',
  })
  access_token: string;
  @ApiProperty({
    example: 'Bearer',
    enum: ['Bearer', 'DPoP'],
    description: 'DPoP when the token is bound to the key of the request’s DPoP proof (RFC 9449)',
  })
  token_type: 'Bearer' | 'DPoP';
  @ApiProperty({ example: 600, description: 'Seconds until the access token expires' })
  expires_in: number;
  @ApiPropertyOptional({ example: 'trt_…', description: 'Opaque refresh token (when asked for); shown once' })
  refresh_token?: string;
  @ApiPropertyOptional({ example: 1209600, description: 'Seconds until the refresh token expires unless used' })
  refresh_expires_in?: number;
  @ApiProperty({ example: 'orders:read', description: 'Space-separated scopes granted ("" for none)' })
  scope: string;
}
