import { sign } from 'node:crypto';
import { promisify } from 'node:util';
import { Injectable } from '@nestjs/common';
import { JWS_PROFILES, jwsKeyInput } from '../common/crypto/jws-algorithms';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { KeysService } from './keys.service';

const signAsync = promisify(sign);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs Tessera's JWTs (compact JWS, RFC 7515 §7.1) with the active key, decrypted once
 * when it became active. The serialization is three base64url parts; the signature uses
 * the same per-algorithm parameters as verification (common/crypto/jws-algorithms.ts) and
 * node:crypto's callback form, which runs on libuv's thread pool. It measured ~10 % more
 * tokens/s than jose's SignJWT here (bench/RESULTS.md); jose, jsonwebtoken and
 * openid-client verify its output in the tests.
 */
@Injectable()
export class SigningService {
  constructor(private readonly keys: KeysService) {}

  /** The algorithm tokens are signed with right now. */
  get algorithm(): string | undefined {
    return this.keys.signingKey()?.alg;
  }

  /** A compact JWS with header {alg, kid, typ} (typ `at+jwt`: RFC 9068 §2.1). */
  async sign(payload: Record<string, unknown>, typ = 'at+jwt'): Promise<string> {
    const key = this.keys.signingKey();
    if (!key) throw new AppException(ErrorCode.SERVICE_UNAVAILABLE, 'No signing key is active yet: retry shortly');
    const alg = key.alg as keyof typeof JWS_PROFILES;
    const input = `${encode({ alg, kid: key.kid, typ })}.${encode(payload)}`;
    const signature = await signAsync(JWS_PROFILES[alg].digest, Buffer.from(input), jwsKeyInput(alg, key.privateKey));
    return `${input}.${signature.toString('base64url')}`;
  }
}
