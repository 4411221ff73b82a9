import { isIP } from 'node:net';

/**
 * Why a URL Tessera will fetch names a refused host, or undefined: the registration-time half of
 * the outbound rule (docs/adr/0020), for a host that is an IP literal in a refused range
 * (`https://169.254.169.254/…`, `https://[::ffff:10.0.0.1]/…`). A name is not judged here —
 * what it resolves to can change after registration; OutboundHttp checks every resolved
 * address when it connects, which is the real control.
 */
export function outboundUrlProblem(
  value: string,
  what: string,
  policy: { refusal(address: string): string | undefined },
): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined; // the https rule (issuerUrlProblem) reports a malformed URL
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host)) return undefined;
  const reason = policy.refusal(host);
  return reason
    ? `${what} must not point at ${host}: it is ${reason}, which Tessera does not fetch (operators: OUTBOUND_ALLOWED_NETWORKS)`
    : undefined;
}
