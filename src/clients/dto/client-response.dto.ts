import { ApiProperty } from '@nestjs/swagger';

export class ClientResponseDto {
  @ApiProperty({ example: 'tcl_5f0c9a1e2b3d4c5e6f708192', description: 'The OAuth client_id' })
  clientId: string;
  @ApiProperty({ example: 'billing worker' })
  name: string;
  @ApiProperty({ type: [String], example: ['orders:read', 'orders:write'] })
  scopes: string[];
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class CreatedClientResponseDto extends ClientResponseDto {
  @ApiProperty({ example: 'tcs_Vb0…', description: 'The client secret (256 random bits): shown in this answer only, store it now' })
  clientSecret: string;
}
