import { ApiProperty } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-code';

/** The error shape of every endpoint outside /oauth/*. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;
  @ApiProperty({ example: 'bad_request' })
  error: string;
  @ApiProperty({ enum: ErrorCode, example: ErrorCode.VALIDATION_FAILED })
  code: ErrorCode;
  @ApiProperty({ example: 'Invalid request: name: should not be empty' })
  message: string;
}

/** RFC 6749 §5.2 error shape of /oauth/*. */
export class OAuthErrorResponseDto {
  @ApiProperty({ example: 'invalid_grant' })
  error: string;
  @ApiProperty({ example: 'The refresh token is invalid, expired or revoked' })
  error_description: string;
}
