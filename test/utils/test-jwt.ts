import { constants, createHmac, KeyObject, sign } from 'node:crypto';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const DIGESTS: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/**
 * Signs a compact JWS exactly as given (header and payload untouched), for tests that need
 * tokens no library would produce. `alg` chooses the signing operation; the header may claim
 * anything.
 */
export function signTestJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: KeyObject | string,
  alg: string = String(header.alg),
): string {
  const cleanHeader = Object.fromEntries(Object.entries(header).filter(([, v]) => v !== undefined));
  const signingInput = `${b64(cleanHeader)}.${b64(payload)}`;
  const data = Buffer.from(signingInput);
  const digest = DIGESTS[alg.slice(2)];
  let signature: Buffer;
  if (alg.startsWith('HS'))
    signature = createHmac(digest, key as string)
      .update(data)
      .digest();
  else if (alg.startsWith('RS')) signature = sign(digest, data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PADDING });
  else if (alg.startsWith('PS'))
    signature = sign(digest, data, {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  else if (alg.startsWith('ES')) signature = sign(digest, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') signature = sign(null, data, key as KeyObject);
  else signature = Buffer.alloc(0);
  return `${signingInput}.${signature.toString('base64url')}`;
}
