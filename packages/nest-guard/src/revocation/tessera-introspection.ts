import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { LRUCache } from 'lru-cache';
import { lruCache, ttlUntil } from '../core/lru';
import { JwtGuardConfigError, RevocationCheck } from '../jwt-guard.options';

/** How the guard authenticates to Tessera's introspection endpoint: the tenant's API key, */
export interface IntrospectionApiKeyEndpoint {
  /** Tessera's RFC 7662 endpoint, e.g. `https://tessera.example.com/oauth/introspect`. */
  url: string;
  /** A tenant API key, sent as `X-Api-Key`. */
  apiKey: string;
}

/** or one of that tenant's OAuth clients (client_secret_basic). */
export interface IntrospectionClientEndpoint {
  url: string;
  clientId: string;
  clientSecret: string;
}

export type IntrospectionEndpoint = IntrospectionApiKeyEndpoint | IntrospectionClientEndpoint;

export interface IntrospectionOptions {
  /** How long an answer (active or not) is reused per token; never past the token's `exp` (default 5000 ms; 0 = ask every time). */
  cacheTtlMs?: number;
  /** Request timeout (default 2000 ms). */
  timeoutMs?: number;
  /**
   * When the endpoint cannot answer (network error, timeout, non-200, not an RFC 7662 answer):
   * 'deny' (default) refuses the request with 503 SERVICE_UNAVAILABLE; 'allow' lets the
   * verified token through.
   */
  onError?: 'deny' | 'allow';
  /** After a failure, answer per `onError` without a request for this long (default 1000 ms; 0 = retry every time). */
  failureBackoffMs?: number;
  /** Tokens whose answer is remembered (default 10 000). */
  cacheSize?: number;
}

/** Thrown (and mapped by the guard to 503 SERVICE_UNAVAILABLE) when the status could not be learned. */
export class IntrospectionUnavailableError extends Error {
  constructor(reason: string) {
    super(`Token introspection unavailable: ${reason}`);
    this.name = 'IntrospectionUnavailableError';
  }
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A revocation check that asks Tessera's introspection endpoint (RFC 7662) whether a token the
 * guard has verified is still active: `{"active": false}` means revoked (TOKEN_REVOKED).
 *
 *   JwtGuardModule.forRoot({ issuers: [{ issuer, audience, algorithms, jwksUri,
 *     revocation: tesseraIntrospection({ url: `${tessera}/oauth/introspect`, apiKey }) }] })
 *
 * Answers are cached per SHA-256 of the token (bounded LRU) for min(cacheTtlMs, exp); concurrent
 * checks of one token share one request. Tessera's introspection is per tenant: tokens of other
 * tenants introspect as inactive, so use credentials of the tenant whose tokens the service accepts.
 */
export function tesseraIntrospection(endpoint: IntrospectionEndpoint, options: IntrospectionOptions = {}): RevocationCheck {
  const introspection = new TesseraIntrospection(endpoint, options);
  return {
    // The guard's own per-jti cache stays off: this check caches per token.
    cacheTtlMs: 0,
    isRevoked: (claims, token, tokenHash) => {
      if (typeof token !== 'string') throw new IntrospectionUnavailableError('the token was not passed to the check');
      // A cached answer is returned synchronously: no promise on a hot token's path.
      const cached = typeof tokenHash === 'string' ? introspection.cached(tokenHash) : undefined;
      return cached ?? introspection.isRevoked(token, typeof claims.exp === 'number' ? claims.exp : undefined, tokenHash);
    },
  };
}

export class TesseraIntrospection {
  private readonly logger = new Logger('JwtGuard');
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly cacheTtlMs: number;
  private readonly timeoutMs: number;
  private readonly allowOnError: boolean;
  private readonly failureBackoffMs: number;
  private readonly answers: LRUCache<string, boolean> | undefined;
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private lastFailureAtMs = Number.NEGATIVE_INFINITY;
  /** Requests sent to the endpoint (for tests and metrics). */
  requests = 0;

  constructor(endpoint: IntrospectionEndpoint, options: IntrospectionOptions = {}) {
    const where = 'tesseraIntrospection';
    let url: URL;
    try {
      url = new URL(endpoint?.url);
    } catch {
      throw new JwtGuardConfigError(`${where}: url is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new JwtGuardConfigError(`${where}: url must be http(s)`);
    if (url.username || url.password)
      throw new JwtGuardConfigError(`${where}: put credentials in apiKey or clientId/clientSecret, not in the url`);
    this.url = url.href;
    this.headers = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...credentialHeaders(endpoint, where),
    };
    this.cacheTtlMs = integer(options.cacheTtlMs, 5000, 0, `${where}: cacheTtlMs`);
    this.timeoutMs = integer(options.timeoutMs, 2000, 1, `${where}: timeoutMs`);
    this.failureBackoffMs = integer(options.failureBackoffMs, 1000, 0, `${where}: failureBackoffMs`);
    const onError = options.onError ?? 'deny';
    if (onError !== 'deny' && onError !== 'allow') throw new JwtGuardConfigError(`${where}: onError must be 'deny' or 'allow'`);
    this.allowOnError = onError === 'allow';
    const cacheSize = integer(options.cacheSize, 10_000, 0, `${where}: cacheSize`);
    this.answers = cacheSize > 0 ? lruCache<boolean>(cacheSize) : undefined;
  }

  /**
   * True when Tessera says the token is not active. `expSec` bounds the cache entry; `tokenHash`
   * (the guard's SHA-256 of the token) saves hashing it again. Throws IntrospectionUnavailableError
   * when the answer cannot be learned and onError is 'deny'.
   */
  async isRevoked(token: string, expSec?: number, tokenHash?: string): Promise<boolean> {
    const key = tokenHash ?? createHash('sha256').update(token).digest('base64url');
    const cached = this.answers?.get(key);
    if (cached !== undefined) return cached;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(token, key, expSec);
      this.inFlight.set(key, pending);
      // Whatever the outcome, the next check after this one asks again (or reads the cache).
      pending.then(
        () => this.inFlight.delete(key),
        () => this.inFlight.delete(key),
      );
    }
    return pending;
  }

  /** The cached answer for a token hash, or undefined: synchronous, for the guard's hot path. */
  cached(tokenHash: string): boolean | undefined {
    return this.answers?.get(tokenHash);
  }

  private async ask(token: string, key: string, expSec: number | undefined): Promise<boolean> {
    if (Date.now() - this.lastFailureAtMs < this.failureBackoffMs) return this.failed(undefined);
    let active: boolean;
    try {
      this.requests++;
      active = await this.post(token);
    } catch (error) {
      this.lastFailureAtMs = Date.now();
      return this.failed(error);
    }
    const now = Date.now();
    const expiresAtMs = Math.min(now + this.cacheTtlMs, expSec === undefined ? Number.POSITIVE_INFINITY : expSec * 1000);
    const ttl = this.cacheTtlMs > 0 ? ttlUntil(expiresAtMs, now) : undefined;
    if (ttl !== undefined) this.answers?.set(key, !active, { ttl, start: now });
    return !active;
  }

  private async post(token: string): Promise<boolean> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers,
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      // A redirect could carry the token somewhere else.
      redirect: 'error',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.status !== 200 || Number(response.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(response.status !== 200 ? `introspection endpoint answered ${response.status}` : 'introspection answer is too large');
    }
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new Error('introspection answer is too large');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('introspection answer is not JSON');
    }
    const active = (body as { active?: unknown } | null)?.active;
    if (typeof active !== 'boolean') throw new Error('introspection answer has no boolean "active"');
    return active;
  }

  private failed(error: unknown): boolean {
    if (error !== undefined) {
      // Once per failed request, which failureBackoffMs bounds; never the token or a credential.
      // Duck-typed: fetch's DOMException and TypeError may come from another realm.
      const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
      const reason =
        name === 'TimeoutError'
          ? `timed out after ${this.timeoutMs} ms`
          : typeof message === 'string' && message
            ? message
            : 'unknown error';
      this.logger.warn(
        `Token introspection at ${this.url} failed: ${reason}; ${this.allowOnError ? 'verified tokens are let through' : 'requests answer 503'}`,
      );
    }
    if (this.allowOnError) return false;
    throw new IntrospectionUnavailableError(error === undefined ? 'recent failure' : 'request failed');
  }
}

function credentialHeaders(endpoint: IntrospectionEndpoint, where: string): Record<string, string> {
  const apiKey = (endpoint as Partial<IntrospectionApiKeyEndpoint>).apiKey;
  const { clientId, clientSecret } = endpoint as Partial<IntrospectionClientEndpoint>;
  const hasClient = clientId !== undefined || clientSecret !== undefined;
  if ((apiKey !== undefined) === hasClient) throw new JwtGuardConfigError(`${where}: give either apiKey or clientId and clientSecret`);
  if (apiKey !== undefined) {
    if (typeof apiKey !== 'string' || apiKey.length === 0 || !/^[\x21-\x7e]+$/.test(apiKey))
      throw new JwtGuardConfigError(`${where}: apiKey must be a non-empty visible ASCII string`);
    return { 'x-api-key': apiKey };
  }
  if (typeof clientId !== 'string' || clientId.length === 0 || typeof clientSecret !== 'string' || clientSecret.length === 0) {
    throw new JwtGuardConfigError(`${where}: clientId and clientSecret must be non-empty strings`);
  }
  // RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
  const form = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return { authorization: `Basic ${Buffer.from(`${form(clientId)}:${form(clientSecret)}`).toString('base64')}` };
}

function integer(value: number | undefined, fallback: number, min: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new JwtGuardConfigError(`${what} must be an integer ≥ ${min}`);
  return value;
}
