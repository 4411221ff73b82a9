import { TokenError } from './token-errors';

/** A compact JWS split and decoded, before any key lookup or signature check. */
export interface InspectedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `<header>.<payload>` exactly as received: the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

export interface InspectOptions {
  /** A missing `kid` is UNKNOWN_KEY (default). HMAC issuers that sign without a kid pass `false`. */
  requireKid?: boolean;
}

const DEFAULT_MAX_TOKEN_BYTES = 8192;
const MAX_KID_LENGTH = 256;

/**
 * Header parameters that make a verifier fetch or trust key material named by the token
 * itself (RFC 8725 §3.10: jwk, jku, x5u, x5c), or change what is signed (RFC 7797 b64,
 * RFC 7515 §4.1.11 crit: we understand no extension, so every crit entry is unknown).
 */
const REFUSED_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64'];
const NUMERIC_DATE_CLAIMS = ['exp', 'nbf', 'iat'];
const STRING_CLAIMS = ['iss', 'sub', 'jti'];
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// C0 controls, DEL and C1 controls: nothing a key id needs, much a log injection wants.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Structural checks of docs/errors.md ("Which code a hostile token gets"), in the order a hostile token meets them:
 * size, three parts, canonical base64url, JSON objects without duplicate members,
 * refused header parameters (MALFORMED_TOKEN); `alg` missing or none (ALGORITHM_NOT_ALLOWED);
 * `kid` missing, not a string, over 256 characters or with control characters (UNKNOWN_KEY).
 * Registered claims of the wrong type (exp as a string, beyond 2^53, iss not a string…) are
 * MALFORMED_TOKEN too. No key lookup, no signature check. Throws TokenError.
 */
export function inspectJwt(token: string, maxBytes: number = DEFAULT_MAX_TOKEN_BYTES, options: InspectOptions = {}): InspectedJwt {
  if (typeof token !== 'string' || token.length === 0) throw new TokenError('MALFORMED_TOKEN', 'Token is malformed');
  // Checked before anything is decoded. Every accepted character is ASCII (below), so the
  // length in characters is the length in bytes.
  if (token.length > maxBytes) throw new TokenError('MALFORMED_TOKEN', 'Token is too large');

  const firstDot = token.indexOf('.');
  const secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
  if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) {
    // A JWE has five parts; anything but three is not a compact JWS.
    throw new TokenError('MALFORMED_TOKEN', 'Token must have three parts');
  }
  const encodedHeader = token.slice(0, firstDot);
  const encodedPayload = token.slice(firstDot + 1, secondDot);
  const encodedSignature = token.slice(secondDot + 1);

  const header = decodeJsonObject(encodedHeader, 'header');
  const payload = decodeJsonObject(encodedPayload, 'payload');
  // An empty signature is left to the signature check (or to the alg check for alg none).
  const signature = encodedSignature.length === 0 ? Buffer.alloc(0) : decodeBase64url(encodedSignature, 'signature');

  for (const name of REFUSED_HEADER_PARAMETERS) {
    if (Object.prototype.hasOwnProperty.call(header, name)) {
      throw new TokenError('MALFORMED_TOKEN', `Token header parameter ${name} is not accepted`);
    }
  }

  const alg = header.alg;
  if (typeof alg !== 'string' || alg.length === 0 || alg.toLowerCase() === 'none') {
    throw new TokenError('ALGORITHM_NOT_ALLOWED', 'Token algorithm is not allowed');
  }

  const kid = header.kid;
  if (kid === undefined) {
    if (options.requireKid !== false) throw new TokenError('UNKNOWN_KEY', 'Token header has no key id');
  } else if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH || CONTROL_CHARACTERS.test(kid)) {
    throw new TokenError('UNKNOWN_KEY', 'Token key id is not acceptable');
  }

  checkClaimTypes(payload);

  return { header, payload, signingInput: token.slice(0, secondDot), signature };
}

function checkClaimTypes(payload: Record<string, unknown>): void {
  for (const name of NUMERIC_DATE_CLAIMS) {
    const value = payload[name];
    // RFC 7519 §2 NumericDate. Beyond 2^53 a float silently rounds; refuse rather than guess.
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER)) {
      throw new TokenError('MALFORMED_TOKEN', `Token claim ${name} is not a valid date`);
    }
  }
  for (const name of STRING_CLAIMS) {
    const value = payload[name];
    if (value !== undefined && typeof value !== 'string') {
      throw new TokenError('MALFORMED_TOKEN', `Token claim ${name} must be a string`);
    }
  }
  const aud = payload.aud;
  if (aud !== undefined && typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) {
    throw new TokenError('MALFORMED_TOKEN', 'Token claim aud must be a string or an array of strings');
  }
}

function decodeBase64url(encoded: string, part: string): Buffer {
  // RFC 7515 §2: base64url without padding. Node's decoder is lenient (it skips '=', '+',
  // '/' and stray bits), so insist on the canonical form: the alphabet only, and the
  // decoded bytes must encode back to the same text.
  const rest = encoded.length % 4;
  if (!BASE64URL.test(encoded) || rest === 1) {
    throw new TokenError('MALFORMED_TOKEN', `Token ${part} is not base64url`);
  }
  // Canonical: the bits of the last character beyond the decoded bytes are zero (4 bits when
  // 2 characters end the text, 2 when 3 do) — the same answer as re-encoding, without the string.
  if (rest !== 0 && (sextet(encoded.charCodeAt(encoded.length - 1)) & (rest === 2 ? 0x0f : 0x03)) !== 0) {
    throw new TokenError('MALFORMED_TOKEN', `Token ${part} is not canonical base64url`);
  }
  return Buffer.from(encoded, 'base64url');
}

/** The 6-bit value of a base64url character (already checked against the alphabet). */
function sextet(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41; // A-Z
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26; // a-z
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52; // 0-9
  return c === 0x2d ? 62 : 63; // - _
}

function decodeJsonObject(encoded: string, part: 'header' | 'payload'): Record<string, unknown> {
  const text = decodeBase64url(encoded, part).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenError('MALFORMED_TOKEN', `Token ${part} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenError('MALFORMED_TOKEN', `Token ${part} is not a JSON object`);
  }
  // JSON.parse keeps the last of duplicate members; another parser may keep the first
  // ({"sub":"a","sub":"admin"}). RFC 7515 §5.2 / RFC 8725 §3.1: refuse them.
  if (hasDuplicateMembers(text)) throw new TokenError('MALFORMED_TOKEN', `Token ${part} has duplicate members`);
  return value as Record<string, unknown>;
}

/**
 * Scans JSON text already accepted by JSON.parse and reports whether any object, at any
 * depth, names a member twice (after unescaping, so "\u0073ub" equals "sub").
 */
export function hasDuplicateMembers(text: string): boolean {
  // One entry per open container: a Set of member names for objects, null for arrays.
  const stack: Array<Set<string> | null> = [];
  let expectingKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      while (end < text.length) {
        const d = text.charCodeAt(end);
        if (d === 0x5c /* \ */) {
          escaped = true;
          end += 2;
          continue;
        }
        if (d === 0x22) break;
        end++;
      }
      const top = stack[stack.length - 1];
      if (expectingKey && top) {
        const raw = text.slice(i + 1, end);
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.has(name)) return true;
        top.add(name);
        expectingKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectingKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectingKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectingKey = false;
    } else if (c === 0x2c /* , */) {
      expectingKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return false;
}
