import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLIENT_AUTH_METHODS, ClientAuthMethod } from '../client.entity';

export class ClientResponseDto {
  @ApiProperty({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192', description: 'The OAuth client_id' })
  clientId: string;
  @ApiProperty({ example: 'billing worker' })
  name: string;
  @ApiProperty({ type: [String], example: ['orders:read', 'orders:write'] })
  scopes: string[];
  @ApiProperty({ enum: CLIENT_AUTH_METHODS, example: 'client_secret_basic', description: 'How the client authenticates at /oauth/*' })
  tokenEndpointAuthMethod: ClientAuthMethod;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'private_key_jwt: the public keys as stored (each with its kid and pinned alg)',
    example: { keys: [{ kty: 'EC', crv: 'P-256', x: '…', y: '…', kid: 'k1', alg: 'ES256', use: 'sig' }] },
  })
  jwks?: { keys: object[] };
  @ApiPropertyOptional({
    example: 'https://billing.example.com/.well-known/jwks.json',
    description: 'private_key_jwt: where the keys are published',
  })
  jwksUri?: string;
  @ApiPropertyOptional({ example: true, description: 'RFC 9449 §5.2: tokens of this client are DPoP-bound only (present when true)' })
  dpopBoundAccessTokens?: true;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class CreatedClientResponseDto extends ClientResponseDto {
  @ApiPropertyOptional({
    example: 'tcs_Vb0…',
    description:
      'The client secret (256 random bits): shown in this answer only, store it now. Absent for private_key_jwt clients, which have none.',
  })
  clientSecret?: string;
}
