import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { isClientId } from '../clients/client-secret';
import { ClientInfo, ClientsService } from '../clients/clients.service';
import { Clock } from '../common/clock';
import { OAuthException } from '../common/errors/oauth.exception';
import { AppConfig } from '../config/app-config';
import { claimedIdentity } from './assertion-claims';
import { AssertionJtiRepository } from './assertion-jti.repository';
import { AssertionRefusal } from './assertion-refusal';
import { PrivateKeyJwtVerifier } from './private-key-jwt.verifier';
import { TrustedIssuerVerifier } from './trusted-issuer.verifier';

export interface SecretlessRequest {
  assertion: string;
  /** The client_id parameter, when one was sent. */
  clientId?: string;
  /** The URL of the endpoint called (an accepted `aud` of private_key_jwt assertions). */
  endpoint: string;
  /** How it was presented: as client authentication, or as the jwt-bearer grant's assertion. */
  usage: 'client_assertion' | 'jwt_bearer';
  requestId?: string;
}

export interface SecretlessAuthentication {
  client: ClientInfo;
  method: 'private_key_jwt' | 'trusted_issuer';
  /** The assertion's exp: a token obtained with it need not outlive it. */
  assertionExp: number;
}

/**
 * Client authentication without a secret (docs/adr/0018): a `private_key_jwt` assertion of a
 * client (its iss is a client id), or a token of a tenant's trusted issuer (any other iss).
 * Each assertion is single use (client_assertion_jtis, one statement), and every attempt,
 * accepted or refused, is audited with the issuer, subject and reason. Every refusal is
 * OAuthException invalid_client (401). Used ids are purged by AssertionJtiPurgeJob.
 */
@Injectable()
export class SecretlessAuthenticator {
  constructor(
    private readonly privateKeyJwt: PrivateKeyJwtVerifier,
    private readonly trustedIssuers: TrustedIssuerVerifier,
    private readonly jtis: AssertionJtiRepository,
    private readonly clients: ClientsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** Whether a jwt-bearer assertion names a trusted issuer (then it is a client's token, not a registered-key one). */
  async namesTrustedIssuer(assertion: string): Promise<boolean> {
    const { issuer } = claimedIdentity(assertion);
    return issuer !== undefined && !isClientId(issuer) && (await this.trustedIssuers.isKnownIssuer(issuer));
  }

  async authenticate(request: SecretlessRequest): Promise<SecretlessAuthentication> {
    const claimed = claimedIdentity(request.assertion);
    const method = claimed.issuer !== undefined && isClientId(claimed.issuer) ? 'private_key_jwt' : 'trusted_issuer';
    const now = this.clock.now();
    const nowSec = Math.floor(now.getTime() / 1000);
    let tenantId: string | null = null;
    // For the audit trail of a refusal: the client the assertion is about, as far as it says.
    let clientId: string | undefined = request.clientId ?? (method === 'private_key_jwt' ? claimed.issuer : undefined);
    try {
      let result: {
        tenantId: string;
        clientId: string;
        scopes: string[];
        issuer: string;
        jti: string;
        exp: number;
        subject: string;
        entryIds?: string[];
      };
      if (method === 'private_key_jwt') {
        const verified = await this.privateKeyJwt.verify(request.assertion, request.clientId, request.endpoint, nowSec);
        result = { ...verified.client, issuer: verified.client.clientId, jti: verified.jti, exp: verified.exp, subject: verified.subject };
      } else {
        result = await this.trustedIssuers.verify(request.assertion, request.clientId, nowSec);
      }
      tenantId = result.tenantId;
      clientId = result.clientId;
      // Kept until the assertion could no longer pass verification (exp plus the clock tolerance).
      const usableUntil = new Date((result.exp + this.config.clockToleranceSeconds) * 1000);
      if (!(await this.jtis.consume(result.issuer, result.jti, usableUntil, now))) {
        throw new AssertionRefusal('REPLAYED_JTI', 'The assertion was already used (its jti is single use): present a new one');
      }
      await this.audit.record({
        tenantId,
        type: 'client.assertion_accepted',
        actor: `client:${result.clientId}`,
        subject: result.clientId,
        details: {
          method,
          usage: request.usage,
          issuer: claimed.issuer,
          subject: result.subject,
          ...(result.entryIds ? { trustedIssuerIds: result.entryIds } : {}),
        },
        requestId: request.requestId,
      });
      return { client: { tenantId: result.tenantId, clientId: result.clientId, scopes: result.scopes }, method, assertionExp: result.exp };
    } catch (error) {
      if (!(error instanceof AssertionRefusal)) throw error;
      if (tenantId === null && clientId !== undefined) tenantId = (await this.clients.findInfo(clientId))?.tenantId ?? null;
      await this.audit.record({
        tenantId,
        type: 'client.assertion_refused',
        actor: 'unauthenticated',
        subject: clientId && isClientId(clientId) ? clientId : undefined,
        details: { method, usage: request.usage, issuer: claimed.issuer ?? null, subject: claimed.subject ?? null, reason: error.reason },
        requestId: request.requestId,
      });
      throw new OAuthException('invalid_client', error.description);
    }
  }
}
