import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { KeysService } from './keys.service';

/** Signs Tessera's JWTs with the active key; the key was decrypted once, when it became active. */
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
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(key.privateKey);
  }
}
