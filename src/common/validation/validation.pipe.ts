import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((m) =>
      m.startsWith(`property ${error.property} `) ? `${path}: unknown field` : `${path}: ${m.replace(`${error.property} `, '')}`,
    );
    return [...own, ...describe(error.children ?? [], path)];
  });
}

/** Global DTO validation: unknown fields refused, every failure named in a 400 VALIDATION_FAILED. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => new AppException(ErrorCode.VALIDATION_FAILED, `Invalid request: ${describe(errors).join('; ')}`),
  });
}
