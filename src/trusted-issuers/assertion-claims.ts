/** What an assertion says about itself before anything is verified: for routing and the audit trail only. */
export interface ClaimedIdentity {
  issuer?: string;
  subject?: string;
}

const MAX_AUDITED_LENGTH = 200;

/**
 * The `iss` and `sub` an assertion claims, read without any check (even from one that will be
 * refused as malformed or `alg: none`), cut to a length fit for a log. Never trusted for a decision.
 */
export function claimedIdentity(assertion: string): ClaimedIdentity {
  try {
    const payload = assertion.split('.')[1];
    if (!payload || payload.length > 16_384) return {};
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, MAX_AUDITED_LENGTH) : undefined);
    return { issuer: text(claims?.iss), subject: text(claims?.sub) };
  } catch {
    return {};
  }
}
