import { HttpException } from '@nestjs/common';
import { describeErrorCode, ErrorCode } from './error-code';

/**
 * The one exception services throw. `message` is what a client may read; never put a
 * token, key or secret in it.
 */
export class AppException extends HttpException {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly headers: Record<string, string> = {},
  ) {
    const info = describeErrorCode(code);
    super(message ?? info.message, info.status);
  }
}
