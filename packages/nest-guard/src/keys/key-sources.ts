import { createSecretKey, KeyObject } from 'node:crypto';
import { keyFamily } from './key-algorithm';
import type { NormalizedIssuer } from '../jwt-guard.options';
import { JwksKeySource } from './jwks-key-source';
import { checkPinnedKey, PinnedKey } from './pinned-key';
import { TokenError } from '../token-errors';

/** Where an issuer's verification keys come from. `resolve` throws TokenError. */
export interface KeySource {
  /** Whether a token must name its key (`kid`). */
  readonly requiresKid: boolean;
  resolve(kid: string | undefined, alg: string): Promise<KeyObject>;
  /**
   * Whether a token verified earlier with `key` (named `kid`) may still be answered from the
   * verified-token cache without asking the source again: synchronous, no I/O, no allocation.
   * False sends the token through full verification (which refreshes or refuses the key).
   */
  holds(kid: string | undefined, key: KeyObject, nowMs: number): boolean;
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
    const keyObject = createSecretKey(secret);
    this.key = { keyObject, family: 'secret' };
  }

  async resolve(_kid: string | undefined, alg: string): Promise<KeyObject> {
    return checkPinnedKey(this.key, alg);
  }

  holds(): boolean {
    return true; // the secret never changes while the module runs
  }
}

/** A local key store (e.g. Tessera's own published keys), asked per kid, no HTTP. */
class ResolverKeySource implements KeySource {
  readonly requiresKid = true;

  constructor(private readonly resolver: NonNullable<NormalizedIssuer['keyResolver']>) {}

  async resolve(kid: string | undefined, alg: string): Promise<KeyObject> {
    if (kid === undefined) throw new TokenError('UNKNOWN_KEY', 'Token header has no key id');
    let found: Awaited<ReturnType<NonNullable<NormalizedIssuer['keyResolver']>>>;
    try {
      found = await this.resolver(kid);
    } catch {
      // The resolver's failure is not the caller's business; the token cannot be checked.
      throw new TokenError('UNKNOWN_KEY', 'Token was signed with an unknown key');
    }
    if (!found) throw new TokenError('UNKNOWN_KEY', 'Token was signed with an unknown key');
    const keyObject = found instanceof KeyObject ? found : found.key;
    const pinned = found instanceof KeyObject ? undefined : found.alg;
    if (!(keyObject instanceof KeyObject) || keyObject.type === 'private') {
      throw new TokenError('UNKNOWN_KEY', 'Token was signed with an unknown key');
    }
    return checkPinnedKey({ keyObject, family: keyFamily(keyObject), alg: pinned }, alg);
  }

  holds(): boolean {
    // A local resolver may be asynchronous and is the application's own store: the verified
    // cache is bounded by verifiedCacheTtlMs for these issuers (ADR 0006).
    return true;
  }
}
