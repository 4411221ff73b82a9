import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a socket: the path and header values go out as
 * latin1 bytes, nothing re-encoded or checked by a client library (supertest and node:http refuse
 * or repair what hostile clients send). Read until the server closes (`connection: close`).
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawAnswer> {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [
    `${method} ${path} HTTP/1.1`,
    'host: 127.0.0.1',
    'connection: close',
    ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`),
  ];
  if (body !== undefined) head.push(`content-length: ${payload.length}`);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${method} ${path.slice(0, 100)} within 15 s`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(parseAnswer(Buffer.concat(chunks))));
    // No half-close: Node's server aborts a request whose client ended its side (httpAllowHalfOpen).
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), payload]));
  });
}

function parseAnswer(bytes: Buffer): RawAnswer {
  const split = bytes.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = bytes.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  let rest = bytes.subarray(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, eol).toString(), 16);
      if (!size) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 4 + size);
    }
    rest = Buffer.concat(parts);
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body: rest.toString('utf8') };
}

/** Why an answer is not a 4xx in the design's shape (RFC 6749's on /oauth/*), or undefined when it is. */
export function designErrorProblem(path: string, answer: RawAnswer): string | undefined {
  const summary = `${answer.status} ${answer.body.slice(0, 300)}`;
  if (!(answer.status >= 400 && answer.status < 500)) return `not a 4xx: ${summary}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return `body is not JSON: ${summary}`;
  }
  const keys = Object.keys(body).sort().join(',');
  if (path.startsWith('/oauth/')) {
    return keys === 'error,error_description' && typeof body.error === 'string' && typeof body.error_description === 'string'
      ? undefined
      : `not RFC 6749: ${summary}`;
  }
  const ok =
    keys === 'code,error,message,statusCode' &&
    body.statusCode === answer.status &&
    typeof body.code === 'string' &&
    typeof body.message === 'string';
  return ok ? undefined : `not {statusCode, error, code, message}: ${summary}`;
}
