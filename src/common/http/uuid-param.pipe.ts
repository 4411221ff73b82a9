import { ParseUUIDPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';

/** Path ids are UUIDs; anything else is a 404, as no such resource can exist. */
export const UuidParam = new ParseUUIDPipe({
  exceptionFactory: () => new AppException(ErrorCode.NOT_FOUND),
});
