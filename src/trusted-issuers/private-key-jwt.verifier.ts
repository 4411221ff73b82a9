import { createPublicKey, JsonWebKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { familyOf, PinnedKey, TokenError } from '@tessera/nest-guard';
import type { ClientJwk } from '../clients/client-jwks';
import { AssertionClient, ClientsService } from '../clients/clients.service';
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
import { JwksUnavailableError, RemoteKeySets } from './remote-key-set';

/** Longest private_key_jwt assertion (exp − now, and exp − iat): openid-client signs 60 s, most libraries ≤ 300 s. */
export const MAX_PRIVATE_KEY_JWT_LIFETIME_SECONDS = 300;

export interface VerifiedAssertion {
  client: AssertionClient;
  jti: string;
  exp: number;
  subject: string;
}

/**
 * RFC 7523 §2.2 / §3 and OIDC Core §9 `private_key_jwt`: iss = sub = the client id, an `aud`
 * naming this server (issuer, token endpoint or the endpoint called), exp at most 300 s ahead,
 * a jti, signed with a key of the client's `jwks` or `jwksUri` under that key's one algorithm.
 */
@Injectable()
export class PrivateKeyJwtVerifier {
  /** Parsed inline keys, by their stored JWK text (a client's keys never change in place). */
  private readonly inlineKeys = new LRUCache<string, PinnedKey>({ max: 5000 });

  constructor(
    private readonly clients: ClientsService,
    private readonly remoteKeys: RemoteKeySets,
    private readonly config: AppConfig,
  ) {}

  async verify(assertion: string, clientIdParam: string | undefined, endpoint: string, nowSec: number): Promise<VerifiedAssertion> {
    const jwt = inspectAssertion(assertion);
    const { iss, sub, alg } = jwt;
    if (sub !== iss)
      throw new AssertionRefusal('SUBJECT_MISMATCH', 'A private_key_jwt assertion must have iss and sub equal to the client id');
    if (clientIdParam !== undefined && clientIdParam !== iss)
      throw new AssertionRefusal('CLIENT_ID_MISMATCH', 'client_id differs from the assertion’s iss');
    const client = await this.clients.findAssertionClient(iss);
    if (!client)
      throw new AssertionRefusal(
        'UNKNOWN_CLIENT',
        'No private_key_jwt client has this id (deleted, tenant disabled, or a client that uses a secret)',
      );
    const rules = assertionRules(this.config.clockToleranceSeconds, {
      issuer: iss,
      // RFC 7523 §3 (3): the authorization server's issuer or its token endpoint; also the endpoint called.
      audiences: [this.config.publicUrl, `${this.config.publicUrl}/oauth/token`, endpoint],
    });
    const exp = checkAssertionTimes(jwt, rules, nowSec, MAX_PRIVATE_KEY_JWT_LIFETIME_SECONDS);
    const kid = jwt.header.kid as string | undefined;
    const key = await this.keyOf(client, kid, alg);
    checkAssertionSignature(jwt, key, rules);
    return { client, jti: requiredJti(jwt), exp, subject: sub };
  }

  private async keyOf(client: AssertionClient, kid: string | undefined, alg: string): Promise<PinnedKey> {
    if (client.jwks) {
      // A kid may be left out when the client has a single key.
      const jwk = kid === undefined ? (client.jwks.length === 1 ? client.jwks[0] : undefined) : client.jwks.find((k) => k.kid === kid);
      if (!jwk)
        throw new AssertionRefusal(
          'UNKNOWN_KEY',
          kid === undefined ? 'The client has several keys: name one with kid' : 'No key of the client has this kid',
        );
      return this.inlineKey(jwk);
    }
    if (kid === undefined) throw new AssertionRefusal('UNKNOWN_KEY', 'The assertion must name its key (kid) in the client’s JWKS');
    try {
      return await this.remoteKeys.forUri(client.jwksUri as string).resolve(kid, alg);
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw new AssertionRefusal('JWKS_UNAVAILABLE', `${error.message}: try again later`);
      if (error instanceof TokenError) throw refusalOf(error);
      throw error;
    }
  }

  private inlineKey(jwk: ClientJwk): PinnedKey {
    const text = JSON.stringify(jwk);
    let key = this.inlineKeys.get(text);
    if (!key) {
      const keyObject = createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' });
      key = { keyObject, family: familyOf(keyObject), alg: jwk.alg };
      this.inlineKeys.set(text, key);
    }
    return key;
  }
}
