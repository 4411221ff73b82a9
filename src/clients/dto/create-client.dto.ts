import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
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
}
