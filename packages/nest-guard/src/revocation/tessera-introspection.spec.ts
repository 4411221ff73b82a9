import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { JwtGuardConfigError } from '../jwt-guard.options';
import { IntrospectionUnavailableError, TesseraIntrospection, tesseraIntrospection } from './tessera-introspection';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local stand-in for POST /oauth/introspect: records requests; `answer` decides the reply. */
class FakeIntrospection {
  seen: Seen[] = [];
  inactive = new Set<string>();
  answer: (req: Seen, res: ServerResponse) => void = (req, res) => {
    const token = new URLSearchParams(req.body).get('token') ?? '';
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: !this.inactive.has(token) }));
  };
  private server!: Server;
  private held: ServerResponse[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += String(chunk)));
      req.on('end', () => {
        const seen = { path: req.url ?? '', headers: req.headers, body };
        this.seen.push(seen);
        this.answer(seen, res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/oauth/introspect`;
  }

  /** Never answers (until close). */
  hang(): void {
    this.answer = (_req, res) => this.held.push(res);
  }

  requestsTo(path: string): number {
    return this.seen.filter((s) => s.path === path).length;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('tesseraIntrospection', () => {
  let server: FakeIntrospection;
  const nowSec = () => Math.floor(Date.now() / 1000);

  beforeEach(async () => {
    server = new FakeIntrospection();
    await server.start();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await server.close();
  });

  it('POSTs the token as a form with X-Api-Key and reads {"active": false} as revoked', async () => {
    const check = new TesseraIntrospection({ url: server.url, apiKey: 'tsk_tenant-key' });
    server.inactive.add('revoked.token.sig');
    await expect(check.isRevoked('live.token.sig')).resolves.toBe(false);
    await expect(check.isRevoked('revoked.token.sig')).resolves.toBe(true);
    expect(server.seen).toHaveLength(2);
    const [first] = server.seen;
    expect(first.path).toBe('/oauth/introspect');
    expect(first.headers['x-api-key']).toBe('tsk_tenant-key');
    expect(first.headers.authorization).toBeUndefined();
    expect(first.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(first.body))).toEqual({ token: 'live.token.sig', token_type_hint: 'access_token' });
  });

  it('authenticates with client_secret_basic, form-urlencoding id and secret (RFC 6749 §2.3.1)', async () => {
    const check = new TesseraIntrospection({ url: server.url, clientId: 'orders api:1', clientSecret: 's3cr3t/+=%' });
    await check.isRevoked('t.t.t');
    const header = server.seen[0].headers.authorization ?? '';
    expect(header).toMatch(/^Basic /);
    const decoded = Buffer.from(header.slice(6), 'base64').toString();
    const [id, secret] = decoded.split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    expect({ id, secret }).toEqual({ id: 'orders api:1', secret: 's3cr3t/+=%' });
    expect(decoded.split(':')).toHaveLength(2); // the ':' inside the id is encoded
    expect(server.seen[0].headers['x-api-key']).toBeUndefined();
  });

  it('caches each answer per token for cacheTtlMs, keyed by the token hash the guard passes', async () => {
    const check = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { cacheTtlMs: 5000 });
    const exp = nowSec() + 3600;
    for (let i = 0; i < 5; i++) await expect(check.isRevoked('a.a.a', exp)).resolves.toBe(false);
    await check.isRevoked('b.b.b', exp);
    expect(server.seen).toHaveLength(2);

    // Revoked at Tessera: still "active" from the cache until cacheTtlMs, then refused.
    server.inactive.add('a.a.a');
    await expect(check.isRevoked('a.a.a', exp)).resolves.toBe(false);
    const start = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(start + 5001);
    await expect(check.isRevoked('a.a.a', exp)).resolves.toBe(true);
    await expect(check.isRevoked('a.a.a', exp)).resolves.toBe(true); // the inactive answer is cached too
    expect(server.seen).toHaveLength(3);

    // The cache key is the hash: the guard's precomputed one and ours agree.
    const hash = createHash('sha256').update('b.b.b').digest('base64url');
    await check.isRevoked('b.b.b', exp, hash);
    expect(server.seen).toHaveLength(4); // 'b' expired from the cache along with 'a' (time moved)
    await check.isRevoked('b.b.b', exp);
    expect(server.seen).toHaveLength(4);
  });

  it('never keeps an answer past the token’s exp, and caches nothing with cacheTtlMs 0', async () => {
    const check = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { cacheTtlMs: 60_000 });
    const start = Date.now();
    const exp = Math.floor(start / 1000) + 2;
    await check.isRevoked('a.a.a', exp);
    await check.isRevoked('a.a.a', exp);
    expect(server.seen).toHaveLength(1);
    jest.spyOn(Date, 'now').mockReturnValue(exp * 1000);
    await check.isRevoked('a.a.a', exp);
    expect(server.seen).toHaveLength(2);

    const uncached = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { cacheTtlMs: 0 });
    await uncached.isRevoked('c.c.c', exp + 3600);
    await uncached.isRevoked('c.c.c', exp + 3600);
    expect(server.seen).toHaveLength(4);
  });

  it('bounds the cache by cacheSize (least recently used out)', async () => {
    const check = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { cacheSize: 2 });
    for (const t of ['a', 'b', 'c']) await check.isRevoked(`${t}.x.x`);
    await check.isRevoked('c.x.x');
    await check.isRevoked('b.x.x');
    expect(server.seen).toHaveLength(3);
    await check.isRevoked('a.x.x');
    expect(server.seen).toHaveLength(4);
  });

  it('shares one request among concurrent checks of the same token', async () => {
    const check = new TesseraIntrospection({ url: server.url, apiKey: 'k' });
    const respond = server.answer;
    server.answer = (req, res) => setTimeout(() => respond(req, res), 100);
    server.inactive.add('r.r.r');
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => check.isRevoked('r.r.r')),
      ...Array.from({ length: 5 }, () => check.isRevoked('s.s.s')),
    ]);
    expect(answers.filter((a) => a === true)).toHaveLength(20);
    expect(answers.filter((a) => a === false)).toHaveLength(5);
    expect(server.seen).toHaveLength(2);
    expect(check.requests).toBe(2);
  });

  it('times out after timeoutMs: deny throws (the guard answers 503), allow lets the token through', async () => {
    server.hang();
    const deny = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { timeoutMs: 100 });
    const started = Date.now();
    await expect(deny.isRevoked('a.a.a')).rejects.toBeInstanceOf(IntrospectionUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);

    const allow = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { timeoutMs: 100, onError: 'allow' });
    await expect(allow.isRevoked('a.a.a')).resolves.toBe(false);
    expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringContaining('timed out after 100 ms'));
    expect(JSON.stringify((Logger.prototype.warn as jest.Mock).mock.calls)).not.toContain('a.a.a');
  });

  it.each<[string, (res: ServerResponse) => void]>([
    ['a 401 (wrong credentials)', (res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}')],
    ['a 503', (res) => res.writeHead(503).end()],
    ['a body that is not JSON', (res) => res.writeHead(200).end('<html>')],
    ['an answer without a boolean active', (res) => res.writeHead(200).end('{"active":"false"}')],
    ['a redirect (never followed: it would carry the token elsewhere)', (res) => res.writeHead(307, { location: '/elsewhere' }).end()],
  ])('treats %s as a failure, not as an answer', async (_name, reply) => {
    server.answer = (_req, res) => reply(res);
    const deny = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { failureBackoffMs: 0 });
    await expect(deny.isRevoked('a.a.a')).rejects.toBeInstanceOf(IntrospectionUnavailableError);
    const allow = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { failureBackoffMs: 0, onError: 'allow' });
    await expect(allow.isRevoked('a.a.a')).resolves.toBe(false);
    expect(server.requestsTo('/elsewhere')).toBe(0);
  });

  it('caches no failure, and after one skips requests for failureBackoffMs', async () => {
    server.answer = (_req, res) => res.writeHead(503).end();
    const check = new TesseraIntrospection({ url: server.url, apiKey: 'k' }, { failureBackoffMs: 1000 });
    await expect(check.isRevoked('a.a.a')).rejects.toBeInstanceOf(IntrospectionUnavailableError);
    await expect(check.isRevoked('b.b.b')).rejects.toBeInstanceOf(IntrospectionUnavailableError);
    expect(server.seen).toHaveLength(1);

    server.answer = new FakeIntrospection().answer;
    const start = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(start + 1001);
    await expect(check.isRevoked('a.a.a')).resolves.toBe(false);
    expect(server.seen).toHaveLength(2);
  });

  it('is a RevocationCheck for the guard: uses the raw token and the precomputed hash, caches per token, not per jti', async () => {
    const check = tesseraIntrospection({ url: server.url, apiKey: 'k' });
    expect(check.cacheTtlMs).toBe(0);
    server.inactive.add('r.r.r');
    const claims = { jti: 'same', exp: nowSec() + 60 };
    await expect(check.isRevoked(claims, 'r.r.r', 'hash-r')).resolves.toBe(true);
    await expect(check.isRevoked(claims, 'l.l.l', 'hash-l')).resolves.toBe(false);
    // Cached answers come back synchronously (no promise per request on a hot token).
    expect(check.isRevoked(claims, 'l.l.l', 'hash-l')).toBe(false);
    expect(check.isRevoked(claims, 'r.r.r', 'hash-r')).toBe(true);
    expect(server.seen).toHaveLength(2);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['no url', () => new TesseraIntrospection({ apiKey: 'k' } as never), /url is not a URL/],
    ['a non-http url', () => new TesseraIntrospection({ url: 'file:///etc/passwd', apiKey: 'k' }), /must be http/],
    [
      'credentials in the url',
      () => new TesseraIntrospection({ url: 'https://u:p@tessera.test/oauth/introspect', apiKey: 'k' }),
      /not in the url/,
    ],
    ['no credentials', () => new TesseraIntrospection({ url: 'https://tessera.test' } as never), /either apiKey or clientId/],
    [
      'both credentials',
      () => new TesseraIntrospection({ url: 'https://tessera.test', apiKey: 'k', clientId: 'c', clientSecret: 's' } as never),
      /either apiKey or clientId/,
    ],
    [
      'a client without secret',
      () => new TesseraIntrospection({ url: 'https://tessera.test', clientId: 'c' } as never),
      /clientId and clientSecret/,
    ],
    ['an API key with a newline', () => new TesseraIntrospection({ url: 'https://tessera.test', apiKey: 'k\nx' }), /visible ASCII/],
    [
      'a bad onError',
      () => new TesseraIntrospection({ url: 'https://tessera.test', apiKey: 'k' }, { onError: 'ignore' as never }),
      /onError/,
    ],
    ['a zero timeout', () => new TesseraIntrospection({ url: 'https://tessera.test', apiKey: 'k' }, { timeoutMs: 0 }), /timeoutMs/],
    [
      'a negative cacheTtlMs',
      () => new TesseraIntrospection({ url: 'https://tessera.test', apiKey: 'k' }, { cacheTtlMs: -1 }),
      /cacheTtlMs/,
    ],
  ])('refuses %s at start', (_name, build, message) => {
    expect(build).toThrow(JwtGuardConfigError);
    expect(build).toThrow(message);
  });
});
