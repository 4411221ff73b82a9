import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { CLIENT_AUTH_METHODS, ClientAuthMethod } from '../client.entity';
import { MAX_SCOPE_TOKEN_LENGTH, MAX_SCOPES, SCOPE_TOKEN } from '../scope';

export class CreateClientDto {
  @ApiProperty({ example: 'billing worker', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({
    type: [String],
    example: ['orders:read', 'orders:write'],
    maxItems: MAX_SCOPES,
    description: `Scopes the client may request (RFC 6749 §3.3 scope tokens: printable ASCII without space, " or \\; at most ${MAX_SCOPE_TOKEN_LENGTH} characters each). May be empty.`,
  })
  @IsArray()
  @ArrayMaxSize(MAX_SCOPES)
  @IsString({ each: true })
  @MaxLength(MAX_SCOPE_TOKEN_LENGTH, { each: true })
  @Matches(SCOPE_TOKEN, { each: true, message: 'scopes must each be a scope token (printable ASCII, no space, quote or backslash)' })
  scopes: string[];

  @ApiPropertyOptional({
    enum: CLIENT_AUTH_METHODS,
    default: 'client_secret_basic',
    description:
      'client_secret_basic / client_secret_post: a secret is generated (both methods work). private_key_jwt (RFC 7523 §2.2): no secret; ' +
      'the client signs assertions with a key from jwks or jwksUri',
  })
  @IsOptional()
  @IsIn(CLIENT_AUTH_METHODS)
  tokenEndpointAuthMethod?: ClientAuthMethod;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'private_key_jwt: a JWK Set of PUBLIC keys (1–10; RSA 2048–4096, EC P-256/384/521, Ed25519). A key with private members is refused.',
    example: { keys: [{ kty: 'EC', crv: 'P-256', x: '…', y: '…', kid: 'k1', alg: 'ES256' }] },
  })
  @IsOptional()
  @IsObject()
  jwks?: object;

  @ApiPropertyOptional({
    example: 'https://billing.example.com/.well-known/jwks.json',
    maxLength: 1024,
    description:
      'private_key_jwt: an https URL serving the client’s JWKS (not on an internal address, unless OUTBOUND_ALLOWED_NETWORKS lists it)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  jwksUri?: string;

  @ApiPropertyOptional({
    example: false,
    description: 'RFC 9449 §5.2 dpop_bound_access_tokens: refuse this client’s token requests without a DPoP proof',
  })
  @IsOptional()
  @IsBoolean()
  dpopBoundAccessTokens?: boolean;
}
