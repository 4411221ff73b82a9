import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsNotEmpty, IsObject, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateIf } from 'class-validator';
import { MAX_CUSTOM_CLAIMS_BYTES, RESERVED_CLAIMS } from '../claims';

/** Optional, but not null: a field sent as null is validated (and refused) like any other value. */
const IsOptional = () => ValidateIf((_object, value) => value !== undefined);

export const MAX_AUDIENCES = 5;
export const MAX_AUDIENCE_LENGTH = 256;

const isAudienceValue = (v: unknown): boolean =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_AUDIENCE_LENGTH && !/[\x00-\x1f\x7f]/.test(v);

/** A non-empty string, or an array of 1..MAX_AUDIENCES such strings. */
const IsAudience = () =>
  ValidateBy({
    name: 'isAudience',
    validator: {
      validate: (value: unknown) =>
        isAudienceValue(value) ||
        (Array.isArray(value) && value.length > 0 && value.length <= MAX_AUDIENCES && value.every(isAudienceValue)),
      defaultMessage: () =>
        `audience must be a string or an array of 1 to ${MAX_AUDIENCES} strings, each 1 to ${MAX_AUDIENCE_LENGTH} characters without control characters`,
    },
  });

export class IssueTokenDto {
  @ApiProperty({ example: 'user-42', maxLength: 255, description: 'The subject (`sub`): who the token is about' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  @Matches(/^[^\x00-\x1f\x7f]+$/, { message: 'must not contain control characters' })
  sub: string;

  @ApiPropertyOptional({
    example: 'orders:read orders:write',
    description: 'Space-separated scopes (RFC 6749 §3.3). With clientId, each must be one of that client’s scopes. Default: none ("").',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  scope?: string;

  @ApiPropertyOptional({
    example: 'tcl_5f0c9a1e2b3d4c5e6f708192',
    description: 'One of the tenant’s live clients; becomes `client_id` (default: the tenant id)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  clientId?: string;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: MAX_AUDIENCES }],
    example: 'https://api.example.com',
    description: 'The `aud` claim. Default: DEFAULT_AUDIENCE.',
  })
  @IsOptional()
  @IsAudience()
  audience?: string | string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { groupRef: 'g-7', plan: 'pro' },
    description: `Custom claims (at most ${MAX_CUSTOM_CLAIMS_BYTES} bytes as JSON); may not name ${RESERVED_CLAIMS.join(', ')}`,
  })
  @IsOptional()
  @IsObject()
  claims?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 300,
    minimum: 10,
    description:
      'Access-token lifetime in whole seconds, 10 to the tenant’s accessTokenMaxTtl. Default: ACCESS_TOKEN_TTL capped by that maximum.',
  })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86400)
  accessTokenTtl?: number;

  @ApiPropertyOptional({ default: true, description: 'Also issue a refresh token (default true)' })
  @IsOptional()
  @IsBoolean()
  refreshToken?: boolean;
}
