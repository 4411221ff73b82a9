import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MAX_SCOPE_TOKEN_LENGTH, MAX_SCOPES, SCOPE_TOKEN } from '../../clients/scope';

export class CreateTrustedIssuerDto {
  @ApiProperty({
    example: 'https://kubernetes.default.svc.cluster.local',
    maxLength: 1024,
    description: 'The exact `iss` of the tokens (https; http only on loopback with ALLOW_INSECURE_ISSUERS_FOR_TESTS)',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  issuer: string;

  @ApiPropertyOptional({
    example: 'https://kubernetes.example.com/openid/v1/jwks',
    maxLength: 1024,
    description:
      'Where the issuer publishes its keys; when absent, the jwks_uri of <issuer>/.well-known/openid-configuration (OpenID Connect Discovery). Internal addresses are not fetched unless OUTBOUND_ALLOWED_NETWORKS lists them',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  jwksUri?: string;

  @ApiProperty({
    example: 'https://tessera.example.com',
    maxLength: 1024,
    description: 'The `aud` the tokens must name (for Kubernetes: the projected token’s audience)',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  audience: string;

  @ApiProperty({
    example: 'system:serviceaccount:billing:*',
    maxLength: 1024,
    description:
      'The `sub` the tokens must have: exact, or a prefix ending in one `*` (e.g. "system:serviceaccount:ns:*", "repo:acme/api:*"). A bare "*" is refused.',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  subject: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { 'kubernetes.io/namespace': 'billing', repository: 'acme/api' },
    description:
      'Exact-match conditions on other claims (at most 20). A name with "/" is a path into nested claims (RFC 6901 escapes ~1, ~0).',
  })
  @IsOptional()
  @IsObject()
  claims?: Record<string, string | number | boolean>;

  @ApiProperty({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192', description: 'The tenant’s client the tokens authenticate as' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  clientId: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['orders:read'],
    maxItems: MAX_SCOPES,
    description: 'At most these scopes (a subset of the client’s); default: the client’s',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SCOPES)
  @IsString({ each: true })
  @MaxLength(MAX_SCOPE_TOKEN_LENGTH, { each: true })
  @Matches(SCOPE_TOKEN, { each: true, message: 'scopes must each be a scope token (printable ASCII, no space, quote or backslash)' })
  scopes?: string[];
}
