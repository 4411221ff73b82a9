import { Injectable, Optional } from '@nestjs/common';
import {
  checkBeforeSignature,
  checkSignatureAndClaimsOffLoop,
  familyOf,
  InspectedJwt,
  inspectJwt,
  PinnedKey,
  TokenError,
  typSet,
  VerificationRules,
} from '@tessera/nest-guard';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { KeysService } from '../keys/keys.service';
import { RegisteredTokenClaims } from '../registered-keys/registered-token-claims';
import { DenylistService } from '../revocation/denylist.service';
import { MAX_JTI_LENGTH } from '../revocation/revocation.service';
import { assertionAudiences, namesAssertionAudience } from './assertion-audience';
import { RegisteredKeyResolver, ResolvedRegisteredKey } from './registered-key-resolver';

export interface VerifiedToken {
  /** Tessera's own access token, or a token signed by a tenant-registered key. */
  kind: 'access' | 'registered';
  /** The key's tenant (own tokens: their tenant_id claim). Never taken from an unverified claim. */
  tenantId: string;
  /** The payload; for registered tokens `tenant_id` is set to the key's tenant. */
  claims: Record<string, unknown>;
  kid: string;
}

/** docs/design.md: the jwt-bearer assertion lifetime is at most 600 s, whatever the tenant allows for bearer tokens. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

/** bearer: verify(); assertion: verifyAssertion(); revocation: verify() without the audience rule. */
type Purpose = 'bearer' | 'assertion' | 'revocation';

export interface VerifyOptions {
  /**
   * Skip the audience rule. Only for revocation (RFC 7009): a genuine token of the caller's
   * tenant can be revoked whatever audience it was issued for.
   */
  ignoreAudience?: boolean;
}

const ACCESS_TOKEN_TYP = typSet('at+jwt');
const REGISTERED_TYPS = typSet('jwt', 'at+jwt');
const ASSERTION_TYPS = typSet('jwt');

/**
 * Verifies tokens Tessera accepts: its own RFC 9068 access tokens (keys held in memory, no
 * database round trip) and tokens signed by a tenant-registered key (docs/design.md "Tokens
 * signed by a tenant's registered key"). The checks are the guard package's verification core
 * (@tessera/nest-guard: inspectJwt, then checkBeforeSignature — typ, exp/nbf/iat — before any key
 * lookup, then checkSignatureAndClaims — the pinned key, one node:crypto signature, iss, aud);
 * this service adds Tessera's policies around it: which key set a kid names, the tenant binding
 * and lifetime of registered tokens, the assertion audiences (assertion-audience.ts), the
 * denylist. Every refusal is a TokenError whose code the callers map to their answer (401 JSON,
 * `{"active": false}`, invalid_grant).
 */
@Injectable()
export class TokenVerifierService {
  private readonly issuer: string;
  /** What an assertion's aud must name, and what a bearer token's aud must never name (assertion-audience.ts). */
  private readonly assertionAudiences: string[];
  private readonly rules: Record<'access' | 'accessAnyAudience' | Purpose, VerificationRules>;

  constructor(
    private readonly keys: KeysService,
    private readonly registeredKeys: RegisteredKeyResolver,
    private readonly denylist: DenylistService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    @Optional() private readonly registeredClaims?: RegisteredTokenClaims,
  ) {
    this.issuer = config.publicUrl;
    this.assertionAudiences = assertionAudiences({
      tokenEndpoint: `${config.publicUrl}/oauth/token`,
      issuer: config.publicUrl,
      verifyAudiences: config.verifyAudiences,
    });
    const clockToleranceSec = config.clockToleranceSeconds;
    // RFC 9068 §2.1 / §4: access tokens are typed at+jwt, which also keeps other JWTs we sign apart.
    const access: VerificationRules = {
      issuer: this.issuer,
      audiences: config.verifyAudiences,
      acceptedTyps: ACCESS_TOKEN_TYP,
      typMessage: 'Token must be typed at+jwt',
      clockToleranceSec,
    };
    // Registered tokens: typ absent, JWT or at+jwt; aud optional but, when present, one of ours; iss is the key's tenant (below).
    const registered = {
      acceptedTyps: REGISTERED_TYPS,
      typOptional: true,
      typMessage: 'Token type must be absent, JWT or at+jwt',
      clockToleranceSec,
    };
    this.rules = {
      access,
      accessAnyAudience: { ...access, audiences: undefined },
      bearer: { ...registered, audiences: config.verifyAudiences, audienceOptional: true },
      revocation: registered,
      // An assertion may not claim to be an access token; its audience is checked by the policy below.
      assertion: { acceptedTyps: ASSERTION_TYPS, typOptional: true, typMessage: 'Assertion type must be absent or JWT', clockToleranceSec },
    };
  }

  /** Full verification for a bearer token (forward-auth, introspection, revocation). */
  async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedToken> {
    const jwt = inspectJwt(token);
    const kid = jwt.header.kid as string;
    const own = this.keys.publishedKey(kid);
    const checkAudience = options.ignoreAudience !== true;
    let verified: VerifiedToken;
    if (own) {
      const rules = checkAudience ? this.rules.access : this.rules.accessAnyAudience;
      checkBeforeSignature(jwt, rules, this.nowSeconds());
      await checkSignatureAndClaimsOffLoop(jwt, { keyObject: own.keyObject, family: familyOf(own.keyObject), alg: own.alg }, rules);
      verified = this.ownPolicy(jwt, kid);
    } else {
      verified = await this.verifyRegistered(jwt, kid, checkAudience ? 'bearer' : 'revocation');
    }
    this.assertNotRevoked(verified);
    return verified;
  }

  /**
   * RFC 7523 assertion for the jwt-bearer grant: a registered key only, `jti` required (its
   * single use is the grant's job), `aud` naming an assertion audience (the token endpoint; the
   * issuer only where it is not a verify audience), lifetime at most 600 s and within the
   * tenant's limit, and not typed as an access token.
   */
  async verifyAssertion(token: string): Promise<VerifiedToken> {
    const jwt = inspectJwt(token);
    const kid = jwt.header.kid as string;
    if (this.keys.publishedKey(kid)) {
      throw new TokenError('INVALID_TOKEN_TYPE', 'A Tessera access token is not an assertion: sign one with a registered key');
    }
    const verified = await this.verifyRegistered(jwt, kid, 'assertion');
    this.assertNotRevoked(verified);
    return verified;
  }

  /** Tessera's own tokens name their tenant and subject, and say when they were issued. */
  private ownPolicy(jwt: InspectedJwt, kid: string): VerifiedToken {
    const { payload } = jwt;
    requireClaims(payload, ['sub', 'iat']);
    if (typeof payload.tenant_id !== 'string' || payload.tenant_id.length === 0) {
      throw new TokenError('MALFORMED_TOKEN', 'Token has no tenant_id claim');
    }
    return { kind: 'access', tenantId: payload.tenant_id, claims: payload, kid };
  }

  private async verifyRegistered(jwt: InspectedJwt, kid: string, purpose: Purpose): Promise<VerifiedToken> {
    const rules = this.rules[purpose];
    // Cheap checks first: an expired or mistyped token costs no key look-up (and no database round trip).
    checkBeforeSignature(jwt, rules, this.nowSeconds());
    const key = await this.registeredKey(kid);
    const pinned: PinnedKey = { keyObject: key.keyObject, family: familyOf(key.keyObject), alg: key.algorithm };
    await checkSignatureAndClaimsOffLoop(jwt, pinned, rules);
    const verified = this.registeredPolicy(jwt, key, purpose);
    // A client_id naming another tenant's Tessera client is refused (docs/adr/0013-registered-token-trust.md).
    await this.registeredClaims?.check(verified.tenantId, verified.claims);
    return verified;
  }

  /** The Ampersand flow's rules for a token signed by a tenant's registered key. */
  private registeredPolicy(jwt: InspectedJwt, key: ResolvedRegisteredKey, purpose: Purpose): VerifiedToken {
    const { payload } = jwt;
    requireClaims(payload, purpose === 'assertion' ? ['sub', 'iat', 'jti'] : ['sub', 'iat']);
    // A jti names a denylist entry or a replay-table row in every replica: bounded (issue 17).
    if (typeof payload.jti === 'string' && payload.jti.length > MAX_JTI_LENGTH) {
      throw new TokenError('MALFORMED_TOKEN', `Token jti must be at most ${MAX_JTI_LENGTH} characters`);
    }
    // The tenant is always the key's: a claim may confirm it, never choose it.
    if (payload.iss !== undefined && payload.iss !== key.tenantId)
      throw new TokenError('INVALID_ISSUER', 'Token iss must be the tenant id');
    if (payload.tenant_id !== undefined && payload.tenant_id !== key.tenantId) {
      throw new TokenError('INVALID_ISSUER', "Token tenant_id does not match the key's tenant");
    }
    const maxLifetime =
      purpose === 'assertion' ? Math.min(key.registeredTokenMaxTtl, MAX_ASSERTION_LIFETIME_SECONDS) : key.registeredTokenMaxTtl;
    if ((payload.exp as number) - (payload.iat as number) > maxLifetime) {
      throw new TokenError('MALFORMED_TOKEN', `Token lifetime (exp - iat) is over the ${maxLifetime} s allowed`);
    }
    if (purpose === 'bearer') {
      // An aud naming an assertion audience marks a jwt-bearer assertion, which is exchanged, never used as a bearer.
      if (namesAssertionAudience(payload.aud, this.assertionAudiences)) {
        throw new TokenError(
          'INVALID_AUDIENCE',
          'Token audience is an assertion audience (the token endpoint): exchange it at /oauth/token, it is not a bearer token',
        );
      }
    } else if (purpose === 'assertion' && !namesAssertionAudience(payload.aud, this.assertionAudiences)) {
      throw new TokenError('INVALID_AUDIENCE', `Assertion aud must name ${this.assertionAudiences.join(' or ')}`);
    }
    return { kind: 'registered', tenantId: key.tenantId, claims: { ...payload, tenant_id: key.tenantId }, kid: key.kid };
  }

  private async registeredKey(kid: string): Promise<ResolvedRegisteredKey> {
    const key = await this.registeredKeys.resolve(kid);
    if (!key) throw new TokenError('UNKNOWN_KEY');
    return key;
  }

  /** The injected clock, in (fractional) seconds: tests move it. */
  private nowSeconds(): number {
    return this.clock.now().getTime() / 1000;
  }

  private assertNotRevoked(token: VerifiedToken): void {
    const { jti, sub, iat } = token.claims;
    const revoked = this.denylist.isRevoked({
      tenantId: token.tenantId,
      jti: typeof jti === 'string' ? jti : undefined,
      sub: typeof sub === 'string' ? sub : undefined,
      iat: typeof iat === 'number' ? iat : undefined,
    });
    if (revoked) throw new TokenError('TOKEN_REVOKED');
  }
}

function requireClaims(payload: Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const value = payload[name];
    // inspectJwt has already checked the types of the registered claims that are present.
    if (value === undefined || value === '') throw new TokenError('MALFORMED_TOKEN', `Token has no ${name} claim`);
  }
}
