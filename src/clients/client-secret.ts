import { randomBytes } from 'node:crypto';
import { hashSecret } from '../auth/api-key-format';

/** Client ids are `tcl_` + 96 random bits in hex: readable, unguessable enough to not collide, not secret. */
const CLIENT_ID = /^tcl_[0-9a-f]{24}$/;

export interface GeneratedClient {
  clientId: string;
  /** `tcs_` + 256 random bits (base64url): shown once, stored as SHA-256 only. */
  clientSecret: string;
  secretHash: Buffer;
}

export function generateClient(): GeneratedClient {
  const clientSecret = `tcs_${randomBytes(32).toString('base64url')}`;
  return { clientId: `tcl_${randomBytes(12).toString('hex')}`, clientSecret, secretHash: hashSecret(clientSecret) };
}

export function isClientId(value: string): boolean {
  return CLIENT_ID.test(value);
}
