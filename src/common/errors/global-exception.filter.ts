import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BearerAuthException } from '@tessera/nest-guard';
import { AppException } from './app.exception';
import { isDatabaseUnavailable, isInvalidInputData } from './database-errors';
import { describeErrorCode, ErrorCode, reasonPhrase } from './error-code';
import { OAuthException, OAuthErrorCode } from './oauth.exception';

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string;
}

interface Resolved {
  status: number;
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.TENANT_FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/**
 * Every error leaves as `{statusCode, error, code, message}` (RFC 6749 `{error,
 * error_description}` under /oauth/). The unknown becomes a bare 500 whose details go
 * only to the log; a lost database becomes 503.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const isOAuth = (request.url ?? '').startsWith('/oauth/');

    // The guard module's errors already carry the design's body and the RFC 6750 challenge.
    if (exception instanceof BearerAuthException) {
      this.send(reply, exception.getStatus(), exception.headers, exception.getResponse());
      return;
    }
    if (exception instanceof OAuthException) {
      this.send(reply, exception.status, exception.headers, { error: exception.error, error_description: exception.description });
      return;
    }
    const resolved = this.resolve(exception);
    if (resolved.status >= 500) {
      const err = exception as Error;
      this.logger.error({ err: { type: err?.name, message: err?.message, stack: err?.stack } }, 'Request failed');
    }
    if (isOAuth) {
      const error: OAuthErrorCode =
        resolved.status === 503
          ? 'temporarily_unavailable'
          : resolved.status >= 500
            ? 'server_error'
            : resolved.status === 401
              ? 'invalid_client'
              : 'invalid_request';
      this.send(reply, resolved.status, resolved.headers, { error, error_description: resolved.message });
      return;
    }
    const body: ErrorBody = {
      statusCode: resolved.status,
      error: reasonPhrase(resolved.status),
      code: resolved.code,
      message: resolved.message,
    };
    this.send(reply, resolved.status, resolved.headers, body);
  }

  private resolve(exception: unknown): Resolved {
    if (exception instanceof AppException) {
      return { status: exception.getStatus(), code: exception.code, message: String(exception.message), headers: exception.headers };
    }
    if (exception instanceof ThrottlerException) {
      const info = describeErrorCode(ErrorCode.RATE_LIMITED);
      return { status: 429, code: ErrorCode.RATE_LIMITED, message: info.message, headers: {} };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = STATUS_CODES[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.VALIDATION_FAILED);
      const message = status >= 500 ? describeErrorCode(code).message : this.httpMessage(exception, code);
      return { status, code, message, headers: {} };
    }
    // Errors raised by Fastify itself (body parser, content type) carry statusCode + code.
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      const status = fastifyError.statusCode;
      const code = STATUS_CODES[status] ?? ErrorCode.VALIDATION_FAILED;
      const message =
        fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/i.test(fastifyError.message ?? '')
          ? 'Request body is not valid JSON'
          : describeErrorCode(code).message;
      return { status, code, message, headers: {} };
    }
    if (isInvalidInputData(exception)) {
      // Never the database's message: it may quote the value.
      this.logger.warn(
        { err: { type: (exception as Error)?.name, code: (exception as { code?: string })?.code } },
        'A request value was refused by the database',
      );
      return {
        status: 400,
        code: ErrorCode.VALIDATION_FAILED,
        message: 'Invalid request: a value cannot be stored (control character, invalid text or out of range)',
        headers: {},
      };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        status: 503,
        code: ErrorCode.SERVICE_UNAVAILABLE,
        message: describeErrorCode(ErrorCode.SERVICE_UNAVAILABLE).message,
        headers: { 'retry-after': '5' },
      };
    }
    return { status: 500, code: ErrorCode.INTERNAL_ERROR, message: describeErrorCode(ErrorCode.INTERNAL_ERROR).message, headers: {} };
  }

  private httpMessage(exception: HttpException, code: ErrorCode): string {
    const response = exception.getResponse();
    if (code === ErrorCode.NOT_FOUND) return 'Not found';
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    return typeof message === 'string' ? message : describeErrorCode(code).message;
  }

  private send(reply: FastifyReply, status: number, headers: Record<string, string>, body: unknown): void {
    if (reply.sent) return;
    reply.status(status).headers(headers).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(body);
  }
}
