import { createSecretKey, KeyObject } from 'node:crypto';
import type { NormalizedIssuer } from '../jwt-guard.options';
import { TokenError } from '../token-errors';
import { JwksKeySource } from './jwks-key-source';
import { checkPinnedKey, familyOf, PinnedKey } from './pinned-key';

/** Where an issuer's verification keys come from. `resolve` throws TokenError. */
export interface KeySource {
  /** Whether a token must name its key (`kid`). */
  readonly requiresKid: boolean;
  /** The key for `kid`, checked against `alg` (pinned algorithm, key type). */
  resolve(kid: string | undefined, alg: string): Promise<PinnedKey>;
  /**
   * Whether a token verified earlier with `key` (named `kid`, under `alg`) may still be answered
   * from the verified-token cache: the key is still the source's key for that kid NOW. JWKS and
   * secret sources answer synchronously without I/O or allocation; a keyResolver is asked again
   * (its own answer may be synchronous). False sends the token through full verification.
   */
  holds(kid: string | undefined, key: KeyObject, alg: string, nowMs: number): boolean | Promise<boolean>;
}

export function createKeySource(issuer: NormalizedIssuer, onJwksFailure: (uri: string, error: unknown) => void): KeySource {
  switch (issuer.keySource) {
    case 'secret':
      return new SecretKeySource(issuer.secret as Buffer);
    case 'resolver':
      return new ResolverKeySource(issuer.keyResolver as NonNullable<NormalizedIssuer['keyResolver']>);
    case 'jwks':
      return new JwksKeySource(issuer, onJwksFailure);
  }
}

/** One shared HMAC secret; a kid, if any, is not needed to find it. */
class SecretKeySource implements KeySource {
  readonly requiresKid = false;
  private readonly key: PinnedKey;

  constructor(secret: Buffer) {
    this.key = { keyObject: createSecretKey(secret), family: 'secret' };
  }

  async resolve(_kid: string | undefined, alg: string): Promise<PinnedKey> {
    return checkPinnedKey(this.key, alg);
  }

  holds(): boolean {
    return true; // the secret never changes while the module runs
  }
}

type ResolverAnswer = Awaited<ReturnType<NonNullable<NormalizedIssuer['keyResolver']>>>;

/** A local key store (e.g. Tessera's own published keys), asked per kid, no HTTP. */
class ResolverKeySource implements KeySource {
  readonly requiresKid = true;

  constructor(private readonly resolver: NonNullable<NormalizedIssuer['keyResolver']>) {}

  async resolve(kid: string | undefined, alg: string): Promise<PinnedKey> {
    if (kid === undefined) throw new TokenError('UNKNOWN_KEY', 'Token header has no key id');
    let found: ResolverAnswer;
    try {
      found = await this.resolver(kid);
    } catch {
      // The resolver's failure is not the caller's business; the token cannot be checked.
      throw new TokenError('UNKNOWN_KEY', 'Token was signed with an unknown key');
    }
    const pinned = toPinnedKey(found);
    if (!pinned) throw new TokenError('UNKNOWN_KEY', 'Token was signed with an unknown key');
    return checkPinnedKey(pinned, alg);
  }

  /**
   * Asks the resolver again on every verified-cache hit (issue 17.6): after an emergency rotation
   * the resolver stops returning the key, and a cached token stops passing at once. A synchronous
   * resolver (Tessera's own, an in-memory map) keeps the hit synchronous.
   */
  holds(kid: string | undefined, key: KeyObject, alg: string): boolean | Promise<boolean> {
    if (kid === undefined) return false;
    let found: ResolverAnswer | Promise<ResolverAnswer>;
    try {
      found = this.resolver(kid);
    } catch {
      return false;
    }
    if (isPromise(found))
      return found.then(
        (answer) => sameKey(answer, key, alg),
        () => false,
      );
    return sameKey(found, key, alg);
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

function toPinnedKey(found: ResolverAnswer): PinnedKey | undefined {
  if (!found) return undefined;
  const keyObject = found instanceof KeyObject ? found : found.key;
  if (!(keyObject instanceof KeyObject) || keyObject.type === 'private') return undefined;
  return { keyObject, family: familyOf(keyObject), alg: found instanceof KeyObject ? undefined : found.alg };
}

/** The resolver still answers `key` (same object, or an equal key) for a pin `alg` still fits. */
function sameKey(found: ResolverAnswer, key: KeyObject, alg: string): boolean {
  if (!found) return false;
  const keyObject = found instanceof KeyObject ? found : found.key;
  const pinned = found instanceof KeyObject ? undefined : found.alg;
  if (pinned !== undefined && pinned !== alg) return false;
  return keyObject === key || (keyObject instanceof KeyObject && keyObject.type === key.type && keyObject.equals(key));
}
