/** What a refresh family remembers, so a rotation can mint an access token like the first one. */
export interface RefreshGrantContext {
  tenantId: string;
  sub: string;
  clientId: string | null;
  scope: string;
  audience: string[];
  claims: Record<string, unknown> | null;
  accessTokenTtl: number;
  /** The DPoP key (RFC 7638 thumbprint) the family is bound to: its rotation needs a proof signed by it (RFC 9449 §5). */
  dpopJkt?: string | null;
}
