import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { KEY_PROOF_TYP, MAX_KEY_PROOF_LENGTH } from '../key-proof';
import { MAX_PUBLIC_KEY_PEM_LENGTH, REGISTERED_KEY_ALGORITHMS, type RegisteredKeyAlgorithm } from '../public-key';

export class CreateRegisteredKeyDto {
  @ApiProperty({ example: 'orders backend 2026', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  label: string;

  @ApiProperty({ enum: REGISTERED_KEY_ALGORITHMS, example: 'RS256', description: 'The only algorithm tokens signed with this key may use' })
  @IsIn(REGISTERED_KEY_ALGORITHMS)
  algorithm: RegisteredKeyAlgorithm;

  @ApiPropertyOptional({
    maxLength: MAX_PUBLIC_KEY_PEM_LENGTH,
    example: '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh…\n-----END PUBLIC KEY-----\n',
    description: 'SPKI ("BEGIN PUBLIC KEY") or PKCS#1 ("BEGIN RSA PUBLIC KEY") PEM. Exactly one of publicKeyPem or jwk.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PUBLIC_KEY_PEM_LENGTH)
  publicKeyPem?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
    description: 'Public JWK (RFC 7517); private members (d, p, q, …) are refused. Exactly one of publicKeyPem or jwk.',
  })
  @IsOptional()
  @IsObject()
  jwk?: Record<string, unknown>;

  @ApiPropertyOptional({
    maxLength: MAX_KEY_PROOF_LENGTH,
    example:
      'eyJhbGciOiJSUzI1NiIsInR5cCI6InRlc3NlcmEta2V5LXByb29mK2p3dCJ9.eyJ0ZW5hbnRfaWQiOiLigKYiLCJqa3QiOiLigKYiLCJpYXQiOjE3OTYxMTkyMDB9.…',
    description:
      `Proof of possession: a compact JWS signed by this key's private half with \`algorithm\`, header \`{"alg", "typ": "${KEY_PROOF_TYP}"}\`, ` +
      'payload exactly `{"tenant_id": <this tenant>, "jkt": <RFC 7638 SHA-256 thumbprint of the key>, "iat": <now>}` (within 300 s). ' +
      'Without it the key is registered unproven: it works until another tenant registers the same key with a proof, which takes it over.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_KEY_PROOF_LENGTH)
  proof?: string;
}
