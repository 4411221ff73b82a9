import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { AppException } from '../errors/app.exception';
import { ErrorCode, reasonPhrase } from '../errors/error-code';

/**
 * Hostile input answered as 4xx before any handler or query (docs/adr/0015): JSON nested past
 * MAX_JSON_DEPTH (recursion in the parser, class-transformer and class-validator would otherwise
 * overflow the stack: a 500), a charset other than UTF-8, and NUL or control characters, lone
 * surrogates or invalid percent-encoding in path parameters and queries (Postgres refuses NUL in
 * text, which used to surface as a 500).
 */

/** Deepest nesting of objects and arrays a JSON body may have; custom token claims are the deepest real use (a few levels). */
export const MAX_JSON_DEPTH = 32;

/** C0 controls (NUL, ESC, CR, LF…), DEL and lone UTF-16 surrogates: never part of an id, a subject or a query value. */
const HOSTILE_CHARACTER = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when the Content-Type names no charset or UTF-8 (RFC 8259 §8.1: JSON is UTF-8; forms are read as UTF-8). */
export function isUtf8OrNoCharset(contentType: string): boolean {
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8') return false;
  }
  return true;
}

/** Nesting depth of a JSON text, counted in one pass outside strings; stops counting past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** NUL (which Postgres text and jsonb refuse) or a lone surrogate (not Unicode) in a JSON string, as a 400. */
const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function refuseHostileStrings(key: string, value: unknown): unknown {
  if (NUL_OR_LONE_SURROGATE.test(key) || (typeof value === 'string' && NUL_OR_LONE_SURROGATE.test(value))) {
    throw invalidJson('Request body contains a NUL character or invalid Unicode (a lone surrogate) in a string');
  }
  return value;
}

/** The first hostile string in a flat record of params or query values, by name. */
export function findHostileValue(values: unknown): string | undefined {
  if (!values || typeof values !== 'object') return undefined;
  for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.some((v) => typeof v === 'string' && (HOSTILE_CHARACTER.test(v) || v.includes('\ufffd')))) return name;
  }
  return undefined;
}

const invalidJson = (message: string) => new AppException(ErrorCode.VALIDATION_FAILED, message);

/**
 * Replaces Fastify's JSON parser with the same library (secure-json-parse: `__proto__` and
 * `constructor.prototype` refused) behind a depth check, and adds the hooks that refuse other
 * charsets and hostile path or query values. Call before the app is ready.
 */
export function registerHostileInputDefences(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit },
    (_request: FastifyRequest, body: string | Buffer, done) => {
      // RFC 8259 §8.1: JSON is UTF-8; invalid bytes would otherwise become U+FFFD and be stored as such.
      if (Buffer.isBuffer(body) && !isUtf8(body)) {
        done(invalidJson('Request body is not valid UTF-8'), undefined);
        return;
      }
      const text = String(body);
      if (text.length === 0) {
        done(invalidJson('Request body is empty: send a JSON object'), undefined);
        return;
      }
      if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
        done(invalidJson(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
        return;
      }
      try {
        done(null, sjson.parse(text, refuseHostileStrings, { protoAction: 'error', constructorAction: 'error' }));
      } catch (error) {
        done(error instanceof AppException ? error : invalidJson('Request body is not valid JSON'), undefined);
      }
    },
  );

  fastify.addHook('onRequest', (request, _reply, done) => {
    const contentType = request.headers['content-type'];
    if (typeof contentType === 'string' && !isUtf8OrNoCharset(contentType)) {
      done(new AppException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Only UTF-8 bodies are accepted: send charset=utf-8 or no charset'));
      return;
    }
    done();
  });

  // After routing and body parsing, before any guard, pipe or handler sees the values. Form
  // bodies (/oauth/* only) are flat strings like a query, and none of their values holds a control.
  fastify.addHook('preValidation', (request, _reply, done) => {
    const isForm = String(request.headers['content-type'] ?? '')
      .toLowerCase()
      .startsWith('application/x-www-form-urlencoded');
    const name =
      findHostileValue(request.params) ?? findHostileValue(request.query) ?? (isForm ? findHostileValue(request.body) : undefined);
    if (name !== undefined) {
      done(new AppException(ErrorCode.VALIDATION_FAILED, `Invalid request: ${name} contains a control character or invalid UTF-8`));
      return;
    }
    done();
  });
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before any route exists (a
 * control character in a header, a malformed request line, headers over 16 KB) gets the design's
 * error body instead of Fastify's own; RFC 6749's when the request line names /oauth/.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, ErrorCode.PAYLOAD_TOO_LARGE, 'Request headers are too large (16 KB at most)']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, ErrorCode.VALIDATION_FAILED, 'The request was not received in time']
        : [400, ErrorCode.VALIDATION_FAILED, 'Malformed HTTP request: check the request line and header values (no control characters)'];
  // Node hands the bytes it had read (typed by Fastify as a JSON-ish object, a Buffer at run time).
  const requestLine = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.subarray(0, 256).toString('latin1') : '';
  const body = /^[A-Z]+ \/oauth\//.test(requestLine)
    ? JSON.stringify({ error: 'invalid_request', error_description: message })
    : JSON.stringify({ statusCode: status, error: reasonPhrase(status), code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
