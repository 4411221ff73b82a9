import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The token request (RFC 6749 §4.4.2, §6; RFC 7523 §2.1), as form parameters or a JSON object. For the OpenAPI document. */
export class TokenRequestDto {
  @ApiProperty({
    enum: ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
    example: 'client_credentials',
  })
  grant_type: string;

  @ApiPropertyOptional({
    example: 'orders:read',
    description: 'Space-separated scopes; must be within what the grant allows (else invalid_scope)',
  })
  scope?: string;

  @ApiPropertyOptional({ description: 'refresh_token grant: the refresh token to rotate' })
  refresh_token?: string;

  @ApiPropertyOptional({
    description:
      'jwt-bearer grant: a JWT signed with one of the tenant’s registered keys (jti, aud = issuer or token endpoint, at most 600 s)',
  })
  assertion?: string;

  @ApiPropertyOptional({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192', description: 'client_secret_post (or, with Basic, the same id again)' })
  client_id?: string;

  @ApiPropertyOptional({ description: 'client_secret_post; never together with an Authorization: Basic header' })
  client_secret?: string;

  @ApiPropertyOptional({
    enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
    description: 'RFC 7521 §4.2: with client_assertion (private_key_jwt or a trusted issuer’s token)',
  })
  client_assertion_type?: string;

  @ApiPropertyOptional({
    description:
      'A JWT authenticating the client: a private_key_jwt assertion (iss = sub = client id) or a trusted issuer’s token; single use (jti)',
  })
  client_assertion?: string;
}
