import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Paths pino replaces with "[redacted]": credentials in headers, and any body or error
 * field that could hold a token or secret should one ever be logged.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.key',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.assertion',
  '*.privateKey',
  '*.publicKeyPem',
];

/** A request id: the caller's `x-request-id` when it is sane, otherwise a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export function loggerParams(config: AppConfig, stream?: DestinationStream): Params {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Fastify assigns the id (genReqId: requestIdOf) and bootstrap copies it onto the raw request.
    genReqId: (req: IncomingMessage) => (req as { id?: string }).id ?? requestIdOf(req),
    // Request lines are written by the Fastify onResponse hook (bootstrap.ts): one line per
    // request with id, method, route path (never the query string), status and time.
    autoLogging: false,
  };
  return { pinoHttp: stream ? [options, stream] : options };
}
