import { ClientInfo } from '../../clients/clients.service';
import { formatScope, parseScope, scopesOutside } from '../../clients/scope';
import { OAuthException } from '../../common/errors/oauth.exception';
import { IssuedTokenResponseDto } from '../../tokens/dto/token-response.dto';

/** One request to the token endpoint, as a grant sees it. */
export interface TokenRequest {
  /** The grant's declared parameters that were sent: single strings, '' dropped (RFC 6749 §3.1). */
  params: Readonly<Record<string, string | undefined>>;
  /** The client that authenticated (basic or post), if any. */
  client: ClientInfo | undefined;
  /** The key of the request's verified DPoP proof (RFC 9449 §5), if one came: the access token is bound to it. */
  dpop?: { jkt: string };
}

/** A grant handler (oidc-provider `lib/actions/grants/`, fosite `handler/`). */
export interface TokenGrant {
  readonly grantType: string;
  /** Parameters the grant reads; the endpoint ignores any other (RFC 6749 §3.2: unknown parameters MUST be ignored). */
  readonly params: readonly string[];
  handle(request: TokenRequest): Promise<IssuedTokenResponseDto>;
}

/** RFC 9449 §5.1: a bound token's token_type is DPoP. */
export function tokenTypeOf(jkt: string | null | undefined): 'DPoP' | 'Bearer' {
  return jkt ? 'DPoP' : 'Bearer';
}

/** A tenant that requires DPoP gets bound tokens only: a request without a proof is refused. */
export function assertDpopPolicy(tenant: { requireDpop?: boolean }, request: Pick<TokenRequest, 'dpop'>): void {
  if (tenant.requireDpop && !request.dpop) {
    throw new OAuthException('invalid_dpop_proof', 'This tenant issues DPoP-bound tokens only: send a DPoP proof header (RFC 9449)');
  }
}

export function requiredParam(request: TokenRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new OAuthException('invalid_request', `${name} is required`);
  return value;
}

/**
 * The scope of a grant (RFC 6749 §3.3): the requested scope, each token within `allowed`
 * (invalid_scope otherwise), or `fallback` when none was asked for.
 */
export function grantedScope(requested: string | undefined, allowed: readonly string[] | undefined, fallback: readonly string[]): string {
  if (requested === undefined) return formatScope(fallback);
  const tokens = parseScope(requested);
  if (!tokens) throw new OAuthException('invalid_scope', 'scope must be space-separated scope tokens (RFC 6749 §3.3)');
  if (allowed) {
    const outside = scopesOutside(tokens, allowed);
    if (outside.length > 0) throw new OAuthException('invalid_scope', `Scope not allowed: ${outside.join(' ')}`);
  }
  return formatScope(tokens);
}
