import { Injectable } from '@nestjs/common';
import { audienceAccepted, PinnedKey, TokenError } from '@tessera/nest-guard';
import { AppConfig } from '../config/app-config';
import { AssertionRefusal } from './assertion-refusal';
import {
  assertionRules,
  checkAssertionSignature,
  checkAssertionTimes,
  inspectAssertion,
  refusalOf,
  requiredJti,
} from './assertion-verification';
import { unmetClaimCondition } from './claim-conditions';
import { IssuerDiscovery } from './issuer-discovery';
import { JwksUnavailableError, RemoteKeySets } from './remote-key-set';
import { subjectMatches } from './subject-pattern';
import { TrustedIssuersRepository, UsableTrustedIssuer } from './trusted-issuers.repository';

/**
 * Longest remaining life of a trusted issuer's token: Kubernetes projects service-account tokens
 * for an hour by default (up to 48 h on request), GitHub Actions for minutes. Its jti is kept
 * until it expires, so the bound also bounds that table.
 */
export const MAX_FEDERATED_TOKEN_LIFETIME_SECONDS = 24 * 3600;

export interface VerifiedFederatedToken {
  tenantId: string;
  clientId: string;
  scopes: string[];
  entryIds: string[];
  issuer: string;
  jti: string;
  exp: number;
  subject: string;
}

/**
 * A token of an external issuer (Kubernetes service account, GitHub Actions OIDC, SPIFFE
 * JWT-SVID) against the trusted issuer entries that name its `iss`: the signature with the
 * issuer's JWKS (through the guard package's key source), then each entry's audience, subject
 * and claim conditions. The matching entries must all act as one client.
 */
@Injectable()
export class TrustedIssuerVerifier {
  constructor(
    private readonly repository: TrustedIssuersRepository,
    private readonly discovery: IssuerDiscovery,
    private readonly remoteKeys: RemoteKeySets,
    private readonly config: AppConfig,
  ) {}

  /** Whether a tenant trusts the issuer this assertion names (unverified: routing only). */
  isKnownIssuer(issuer: string): Promise<boolean> {
    return this.repository.isKnownIssuer(issuer);
  }

  async verify(assertion: string, clientIdParam: string | undefined, nowSec: number): Promise<VerifiedFederatedToken> {
    const jwt = inspectAssertion(assertion);
    const { iss, sub, alg } = jwt;
    const entries = await this.repository.findUsableByIssuer(iss, clientIdParam);
    if (entries.length === 0) {
      if (clientIdParam !== undefined && (await this.repository.isKnownIssuer(iss))) {
        throw new AssertionRefusal(
          'ISSUER_NOT_TRUSTED_FOR_CLIENT',
          'This issuer is not trusted for that client_id (it may be trusted by another tenant)',
        );
      }
      throw new AssertionRefusal(
        'UNKNOWN_ISSUER',
        'No trusted issuer entry names this iss: register it with POST /v1/tenants/:tenantId/trusted-issuers',
      );
    }
    const rules = assertionRules(this.config.clockToleranceSeconds, { issuer: iss });
    const exp = checkAssertionTimes(jwt, rules, nowSec, MAX_FEDERATED_TOKEN_LIFETIME_SECONDS);
    const kid = jwt.header.kid;
    if (typeof kid !== 'string') throw new AssertionRefusal('UNKNOWN_KEY', 'The token must name its key (kid) in the issuer’s JWKS');

    // Entries normally share one JWKS; the signature must verify under the keys of the entries it is judged by.
    const byUri = new Map<string, UsableTrustedIssuer[]>();
    for (const entry of entries) {
      const uri = entry.jwksUri ?? (await this.discovered(iss));
      byUri.set(uri, [...(byUri.get(uri) ?? []), entry]);
    }
    let verifiedEntries: UsableTrustedIssuer[] | undefined;
    let lastRefusal: AssertionRefusal | undefined;
    for (const [uri, group] of byUri) {
      try {
        checkAssertionSignature(jwt, await this.key(uri, kid, alg), rules);
        verifiedEntries = group;
        break;
      } catch (error) {
        lastRefusal = refusalOf(error);
      }
    }
    if (!verifiedEntries) throw lastRefusal as AssertionRefusal;

    const matching: UsableTrustedIssuer[] = [];
    let firstMismatch: AssertionRefusal | undefined;
    for (const entry of verifiedEntries) {
      const mismatch = this.mismatch(entry, jwt.payload, sub);
      if (mismatch) firstMismatch ??= mismatch;
      else matching.push(entry);
    }
    if (matching.length === 0) throw firstMismatch as AssertionRefusal;
    const clients = new Set(matching.map((e) => `${e.tenantId} ${e.clientId}`));
    if (clients.size > 1)
      throw new AssertionRefusal('AMBIGUOUS_CLIENT', 'Entries for several clients match this token: send client_id to choose one');

    const { tenantId, clientId, clientScopes } = matching[0];
    // The client's scopes now, narrowed by each entry that names scopes; several entries add up.
    const allowed = new Set(matching.flatMap((e) => e.scopes ?? clientScopes));
    return {
      tenantId,
      clientId,
      scopes: clientScopes.filter((s) => allowed.has(s)),
      entryIds: matching.map((e) => e.id),
      issuer: iss,
      jti: requiredJti(jwt),
      exp,
      subject: sub,
    };
  }

  private mismatch(entry: UsableTrustedIssuer, claims: Record<string, unknown>, sub: string): AssertionRefusal | undefined {
    if (!audienceAccepted(claims.aud, [entry.audience]))
      return new AssertionRefusal('INVALID_AUDIENCE', 'The token’s aud does not name the audience the trusted issuer entry expects');
    if (!subjectMatches(entry.subject, sub))
      return new AssertionRefusal('SUBJECT_MISMATCH', 'The token’s sub does not match the trusted issuer entry’s subject');
    const claim = unmetClaimCondition(entry.claims, claims);
    if (claim !== undefined)
      return new AssertionRefusal('CLAIM_MISMATCH', `The token’s ${claim.slice(0, 60)} claim does not match the trusted issuer entry`);
    return undefined;
  }

  private async discovered(issuer: string): Promise<string> {
    try {
      return await this.discovery.jwksUri(issuer);
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw new AssertionRefusal('JWKS_UNAVAILABLE', `${error.message}: try again later`);
      throw error;
    }
  }

  private async key(uri: string, kid: string, alg: string): Promise<PinnedKey> {
    try {
      return await this.remoteKeys.forUri(uri).resolve(kid, alg);
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw new AssertionRefusal('JWKS_UNAVAILABLE', `${error.message}: try again later`);
      if (error instanceof TokenError) throw refusalOf(error);
      throw error;
    }
  }
}
