import { readFileSync } from 'node:fs';
import { PathPattern, PathPatternError } from './path-pattern';

/** One claim copied into one response header of GET /v1/auth/verify. */
export interface ClaimHeader {
  claim: string;
  header: string;
}

/** A rule of FORWARD_AUTH_RULES_FILE, compiled. */
export interface ForwardAuthRule {
  /** Upper-case HTTP method, or '*'. */
  method: string;
  path: string;
  pattern: PathPattern;
  /** Every one is required; empty opens the path to any valid token. */
  scopes: string[];
}

export const DEFAULT_FORWARD_AUTH_HEADERS = 'sub:x-user-id,tenant_id:x-tenant-id,scope:x-scope,client_id:x-client-id';
export const MAX_FORWARD_AUTH_RULES = 1000;

/** A configuration problem in one of the forward-auth settings; the message is one line. */
export class ForwardAuthConfigError extends Error {}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/; // RFC 9110 token, lower-cased
const CLAIM_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const METHOD = /^([A-Z]+|\*)$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/; // RFC 6749 §3.3 scope-token
// Headers a gateway or the upstream relies on, which a claim must never overwrite.
const RESERVED_HEADERS = new Set([
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'cache-control',
  'set-cookie',
  'www-authenticate',
  'location',
  'host',
  'x-request-id',
]);

/** Parses `claim:header,claim:header`: lower-cased header names, each header once. */
export function parseClaimHeaders(text: string): ClaimHeader[] {
  const mappings: ClaimHeader[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = item.lastIndexOf(':');
    const claim = item.slice(0, colon).trim();
    const header = item
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (colon <= 0 || !CLAIM_NAME.test(claim) || !HEADER_NAME.test(header)) {
      throw new ForwardAuthConfigError(`entry "${item.slice(0, 60)}" must be claim:header-name, e.g. sub:x-user-id`);
    }
    if (RESERVED_HEADERS.has(header)) throw new ForwardAuthConfigError(`header "${header}" cannot carry a claim`);
    if (mappings.some((m) => m.header === header)) throw new ForwardAuthConfigError(`header "${header}" is named twice`);
    mappings.push({ claim, header });
  }
  return mappings;
}

/** Reads and validates the rules file; every problem names the rule index and the field. */
export function loadForwardAuthRules(file: string): ForwardAuthRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ForwardAuthConfigError(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: ${file})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ForwardAuthConfigError(`is not valid JSON (${file})`);
  }
  return parseForwardAuthRules(value);
}

export function parseForwardAuthRules(value: unknown): ForwardAuthRule[] {
  if (!Array.isArray(value)) throw new ForwardAuthConfigError('must hold a JSON array of {"method", "path", "scopes"} rules');
  // Default deny: an empty file would refuse every path; unsetting FORWARD_AUTH_RULES_FILE is the way to check none.
  if (value.length === 0)
    throw new ForwardAuthConfigError('holds no rule: every path would be refused (unset FORWARD_AUTH_RULES_FILE to check no paths)');
  if (value.length > MAX_FORWARD_AUTH_RULES) throw new ForwardAuthConfigError(`may hold at most ${MAX_FORWARD_AUTH_RULES} rules`);
  return value.map((rule: unknown, i) => {
    const at = `rule ${i}`;
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw new ForwardAuthConfigError(`${at} must be an object`);
    const { method, path, scopes, ...rest } = rule as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new ForwardAuthConfigError(`${at} has an unknown field "${unknown[0].slice(0, 40)}"`);
    const m = typeof method === 'string' ? method.toUpperCase() : (method ?? '*');
    if (typeof m !== 'string' || !METHOD.test(m)) throw new ForwardAuthConfigError(`${at}: method must be an HTTP method or "*"`);
    if (typeof path !== 'string' || !path.startsWith('/') || path.length > 1000 || /[\s?#]/.test(path)) {
      throw new ForwardAuthConfigError(`${at}: path must be a string starting with "/" (no query, no spaces), e.g. "/orders/*"`);
    }
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))) {
      throw new ForwardAuthConfigError(`${at}: scopes must be an array of scope strings (may be empty)`);
    }
    let pattern: PathPattern;
    try {
      pattern = PathPattern.compile(path);
    } catch (error) {
      if (error instanceof PathPatternError) throw new ForwardAuthConfigError(`${at}: path ${error.message}`);
      throw error;
    }
    return { method: m, path, pattern, scopes: [...scopes] as string[] };
  });
}
