import { ApiProperty } from '@nestjs/swagger';

export class TrustedIssuerResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ example: 'https://kubernetes.default.svc.cluster.local' })
  issuer: string;
  @ApiProperty({ nullable: true, type: String, example: null, description: 'Null: found through OpenID discovery at the issuer' })
  jwksUri: string | null;
  @ApiProperty({ example: 'https://tessera.example.com' })
  audience: string;
  @ApiProperty({ example: 'system:serviceaccount:billing:*' })
  subject: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { 'kubernetes.io/namespace': 'billing' } })
  claims: Record<string, string | number | boolean>;
  @ApiProperty({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192' })
  clientId: string;
  @ApiProperty({ type: [String], nullable: true, example: null, description: 'Null: the client’s scopes' })
  scopes: string[] | null;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}
