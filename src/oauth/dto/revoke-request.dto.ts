import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 7009 §2.1 request, as form parameters or a JSON object. For the OpenAPI document. */
export class RevokeRequestDto {
  @ApiProperty({ description: 'A refresh token (ends its family) or an access token (its jti goes on the denylist until it expires)' })
  token: string;

  @ApiPropertyOptional({ enum: ['refresh_token', 'access_token'], description: 'A hint only; the token’s shape decides' })
  token_type_hint?: string;

  @ApiPropertyOptional({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192', description: 'client_secret_post (instead of X-Api-Key)' })
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
