import { Injectable } from '@nestjs/common';
import { boundJkt, dpopChallenge, DpopError, quotedStringContent as quoted, TokenError } from '@tessera/nest-guard';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { ForwardAuthRule } from '../config/forward-auth/forward-auth-config';
import { ForwardedSource } from '../config/forward-auth/forwarded-source';
import { dpopAppException } from '../dpop/dpop-errors';
import { DpopService } from '../dpop/dpop.service';
import { TokenVerifierService } from '../verification/token-verifier.service';
import { claimHeaders } from './claim-headers';
import {
  bearerToken,
  cookieValue,
  dpopToken,
  forwardedHtu,
  ForwardedRequest,
  ForwardedRequestError,
  Headers,
  MAX_FORWARDED_PATH_LENGTH,
  normalisePath,
  PathForm,
  rawPathOf,
  readForwardedRequest,
} from './forwarded-request';

const REALM = 'Bearer realm="tessera"';

/** What the controller hands over besides the headers. */
export interface ForwardAuthRequest {
  /** Node's raw header list, to see a header that arrived twice. */
  rawHeaders?: string[];
  /** Envoy ext_authz: the original method and path taken from this request. */
  pathForm?: PathForm;
}

/**
 * GET /v1/auth/verify for gateways: reads the original request from FORWARD_AUTH_SOURCE only
 * (refusing a conflicting second source), finds the token, verifies it (own keys from
 * memory, no database round trip; registered keys through a short cache), applies the scope
 * rules of FORWARD_AUTH_RULES_FILE (a path no rule names is refused), and answers the claim
 * headers. docs/adr/0009.
 */
@Injectable()
export class ForwardAuthService {
  constructor(
    private readonly verifier: TokenVerifierService,
    private readonly config: AppConfig,
    private readonly dpop: DpopService,
  ) {}

  /**
   * The headers of the 200 answer; throws AppException 400 (FORWARDED_REQUEST_CONFLICT), 414
   * (FORWARDED_URI_TOO_LONG), 401 (invalid token) or 403 (INSUFFICIENT_SCOPE).
   */
  async authorize(headers: Headers, request: ForwardAuthRequest = {}): Promise<Record<string, string>> {
    const { cookieName, claimHeaders: mappings, rules, source } = this.config.forwardAuth;
    const forwarded = this.forwardedRequest(source, headers, request);
    refuseRepeatedAuthorization(request.rawHeaders);
    const asDpop = dpopToken(headers);
    const token = asDpop ?? bearerToken(headers) ?? (cookieName ? this.tokenCookie(headers, cookieName) : undefined);
    if (!token) throw new AppException(ErrorCode.MISSING_TOKEN, undefined, { 'www-authenticate': REALM });

    let verified;
    try {
      verified = await this.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      throw new AppException(ErrorCode[error.code], error.message, {
        'www-authenticate': `${REALM}, error="invalid_token", error_description="${quoted(error.message)}"`,
      });
    }

    await this.checkSenderConstraint(verified.claims, token, asDpop !== undefined, forwarded, headers);
    if (rules.length > 0) this.checkScopes(rules, forwarded, verified.claims.scope);
    return claimHeaders(verified.claims, mappings);
  }

  /**
   * RFC 9449 §7 at the gateway: a bound token (`cnf.jkt`) only as `Authorization: DPoP` with a
   * proof of its key for the request the gateway received — htm the forwarded method, htu the
   * forwarded proto://host/path (no query), both from FORWARD_AUTH_SOURCE only; its jti used once
   * on every replica. A bound token as Bearer, or an unbound one as DPoP, is refused.
   */
  private async checkSenderConstraint(
    claims: Record<string, unknown>,
    token: string,
    asDpop: boolean,
    forwarded: ForwardedRequest,
    headers: Headers,
  ): Promise<void> {
    const jkt = boundJkt(claims);
    if (jkt === undefined && !asDpop) return;
    const algorithms = this.dpop.algorithms;
    const refuseToken = (message: string) =>
      new AppException(ErrorCode.INVALID_TOKEN_TYPE, message, {
        'www-authenticate': `${dpopChallenge(algorithms, 'invalid_token', message)}, ${REALM}, error="invalid_token"`,
      });
    if (jkt === undefined)
      throw refuseToken('The token is not DPoP-bound: send it as Authorization: Bearer, or ask for a DPoP-bound token');
    if (!asDpop) throw refuseToken('A DPoP-bound token must be sent as Authorization: DPoP <token> with a DPoP proof header');
    try {
      const htu = forwardedHtu(forwarded);
      if (htu === undefined || forwarded.method === undefined) {
        const { source } = this.config.forwardAuth;
        const needed = [
          source.pathForm ? 'the Envoy form /v1/auth/verify/<path>' : `${source.methodHeader}, ${source.uriHeader}`,
          source.protoHeader,
          source.hostHeader,
        ].join(', ');
        throw new DpopError(
          'invalid_dpop_proof',
          `A DPoP proof is checked against the original request: the proxy must send ${needed} (FORWARD_AUTH_SOURCE=${source.name})`,
        );
      }
      await this.dpop.verify(this.dpop.proofOf(headers), { method: forwarded.method, url: htu, accessToken: token, jkt });
    } catch (error) {
      if (error instanceof DpopError) throw dpopAppException(error, algorithms);
      throw error;
    }
  }

  /**
   * The token cookie, refused when it is named twice (`t=a; t=b`, or two Cookie headers, which Node joins): Tessera
   * reads the first, and frameworks that read the last would see a token nobody verified.
   */
  private tokenCookie(headers: Headers, name: string): string | undefined {
    const value = cookieValue(headers, name);
    if (value === undefined) return undefined;
    const cookie = Array.isArray(headers.cookie) ? headers.cookie.join(';') : (headers.cookie ?? '');
    const named = cookie.split(';').filter((part) => part.slice(0, part.indexOf('=')).trim() === name && part.includes('='));
    if (named.length > 1)
      throw new AppException(ErrorCode.FORWARDED_REQUEST_CONFLICT, `The ${name} cookie arrives ${named.length} times: send it once`);
    return value;
  }

  /** The original request from the configured source, before the token is looked at: a misconfigured proxy shows at once. */
  private forwardedRequest(source: ForwardedSource, headers: Headers, { rawHeaders, pathForm }: ForwardAuthRequest): ForwardedRequest {
    let forwarded: ForwardedRequest;
    try {
      forwarded = readForwardedRequest(source, headers, rawHeaders, pathForm);
    } catch (error) {
      if (error instanceof ForwardedRequestError) throw new AppException(ErrorCode.FORWARDED_REQUEST_CONFLICT, error.message);
      throw error;
    }
    if (forwarded.uri !== undefined && rawPathOf(forwarded.uri).length > MAX_FORWARDED_PATH_LENGTH) {
      throw new AppException(ErrorCode.FORWARDED_URI_TOO_LONG, `The forwarded path is over ${MAX_FORWARDED_PATH_LENGTH} characters`);
    }
    return forwarded;
  }

  /**
   * First rule matching the forwarded method and path wins; every scope it lists is required.
   * A path no rule names is refused: only `"scopes": []` opens one.
   */
  private checkScopes(rules: ForwardAuthRule[], forwarded: ForwardedRequest, scopeClaim: unknown): void {
    const { source } = this.config.forwardAuth;
    const path = forwarded.uri === undefined ? undefined : normalisePath(forwarded.uri);
    if (path === undefined || forwarded.method === undefined) {
      // With rules configured, a request we cannot place is refused, never waved through.
      const needed = source.pathForm ? 'the Envoy form /v1/auth/verify/<path>' : `${source.methodHeader} and ${source.uriHeader}`;
      throw this.insufficientScope(
        [],
        forwarded.uri === undefined || forwarded.method === undefined
          ? `The scope rules need ${needed} (FORWARD_AUTH_SOURCE=${source.name})`
          : 'The forwarded URI cannot be read',
      );
    }
    const rule = rules.find((r) => (r.method === '*' || r.method === forwarded.method) && r.pattern.test(path));
    if (!rule) throw this.insufficientScope([], 'No forward-auth rule names this method and path; a rule with "scopes": [] opens a path');
    if (rule.scopes.length === 0) return;
    const granted = new Set(typeof scopeClaim === 'string' ? scopeClaim.split(' ') : []);
    if (!rule.scopes.every((s) => granted.has(s)))
      throw this.insufficientScope(rule.scopes, `Token lacks a required scope: ${rule.scopes.join(' ')}`);
  }

  private insufficientScope(scopes: string[], message: string): AppException {
    const scope = scopes.length > 0 ? `, scope="${quoted(scopes.join(' '))}"` : '';
    return new AppException(ErrorCode.INSUFFICIENT_SCOPE, message, {
      'www-authenticate': `${REALM}, error="insufficient_scope", error_description="${quoted(message)}"${scope}`,
    });
  }
}

/**
 * Node keeps only the first `Authorization`, but the gateway hands the upstream every one it got: with two, Tessera
 * would vouch for one token while an upstream that reads the last (or all) acts on another nobody verified. Like
 * any header Tessera reads that arrives twice (docs/adr/0009-forward-auth-and-proxy-trust.md), it is a conflict.
 */
function refuseRepeatedAuthorization(rawHeaders: string[] = []): void {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'authorization') count++;
  if (count > 1) {
    throw new AppException(
      ErrorCode.FORWARDED_REQUEST_CONFLICT,
      `Authorization arrives ${count} times: send one credential (the gateway passes every copy on to the upstream)`,
    );
  }
}
