import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';
import { TokenError } from '../guard/token-errors';
import { TokenVerifierService } from '../verification/token-verifier.service';
import { claimHeaders } from './claim-headers';
import { ForwardAuthRule } from './forward-auth-config';
import { bearerToken, cookieValue, ForwardedTarget, forwardedTarget, Headers, normalisePath } from './forwarded-request';

const REALM = 'Bearer realm="tessera"';

/** RFC 6750 §3 quoted-string content: our messages only, but never let a quote or backslash through. */
const quoted = (text: string) => text.replace(/["\\]/g, "'");

/**
 * GET /v1/auth/verify for gateways: finds the token, verifies it (own keys from memory, no
 * database round trip; registered keys through a short cache), applies the scope rules of
 * FORWARD_AUTH_RULES_FILE to the forwarded method and URI, and answers the claim headers.
 */
@Injectable()
export class ForwardAuthService {
  constructor(
    private readonly verifier: TokenVerifierService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The headers of the 200 answer; throws AppException 401 (invalid token) or 403
   * (INSUFFICIENT_SCOPE). `target` is the original request when the gateway put it in the
   * path (Envoy ext_authz); otherwise it comes from the forwarded headers.
   */
  async authorize(headers: Headers, target: ForwardedTarget = forwardedTarget(headers)): Promise<Record<string, string>> {
    const { cookieName, claimHeaders: mappings, rules } = this.config.forwardAuth;
    const token = bearerToken(headers) ?? (cookieName ? cookieValue(headers, cookieName) : undefined);
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

    if (rules.length > 0) this.checkScopes(rules, target, verified.claims.scope);
    return claimHeaders(verified.claims, mappings);
  }

  /** First rule matching the forwarded method and path wins; every scope it lists is required. */
  private checkScopes(rules: ForwardAuthRule[], target: ForwardedTarget, scopeClaim: unknown): void {
    const path = target.uri === undefined ? undefined : normalisePath(target.uri);
    if (path === undefined) {
      // With rules configured, a request we cannot place is refused, never waved through.
      throw this.insufficientScope([], target.uri === undefined ? 'X-Forwarded-Uri (or X-Original-URI) is required by the scope rules' : 'The forwarded URI cannot be read');
    }
    const rule = rules.find((r) => (r.method === '*' || r.method === target.method) && r.pattern.test(path));
    if (!rule || rule.scopes.length === 0) return;
    const granted = new Set(typeof scopeClaim === 'string' ? scopeClaim.split(' ') : []);
    if (!rule.scopes.every((s) => granted.has(s))) throw this.insufficientScope(rule.scopes, `Token lacks a required scope: ${rule.scopes.join(' ')}`);
  }

  private insufficientScope(scopes: string[], message: string): AppException {
    const scope = scopes.length > 0 ? `, scope="${quoted(scopes.join(' '))}"` : '';
    return new AppException(ErrorCode.INSUFFICIENT_SCOPE, message, {
      'www-authenticate': `${REALM}, error="insufficient_scope", error_description="${quoted(message)}"${scope}`,
    });
  }
}
