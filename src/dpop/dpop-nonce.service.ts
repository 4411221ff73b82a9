import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { DpopNonceSource } from '@tessera/nest-guard';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';

/**
 * Server nonces (RFC 9449 §8, §9) without shared state: a nonce is `<step>.<HMAC(step)>`, where
 * the step is the current half-lifetime window and the key is derived from KEY_ENCRYPTION_KEY, so
 * every replica issues and accepts the same nonces. The current and the previous step are
 * accepted: a nonce lives between half its lifetime and its lifetime (DPOP_NONCE_LIFETIME).
 * A nonce is not single use: the proof's jti is.
 */
@Injectable()
export class DpopNonceService implements DpopNonceSource {
  readonly required: boolean;
  private readonly stepMs: number;
  private readonly key: Buffer;

  constructor(
    config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.required = config.dpop.nonceRequired;
    this.stepMs = Math.max(1, Math.floor(config.dpop.nonceLifetimeSeconds / 2)) * 1000;
    this.key = config.derivedSecrets.dpopNonce;
  }

  current(): string {
    return this.nonceFor(this.step());
  }

  /** True when nonces are off, or the nonce is one of the current or previous step. */
  check(nonce: string | undefined): boolean {
    if (!this.required) return true;
    if (nonce === undefined) return false;
    const dot = nonce.indexOf('.');
    const step = Number(nonce.slice(0, dot));
    const now = this.step();
    if (dot <= 0 || !Number.isSafeInteger(step) || (step !== now && step !== now - 1)) return false;
    const expected = Buffer.from(this.nonceFor(step));
    const given = Buffer.from(nonce);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private step(): number {
    return Math.floor(this.clock.now().getTime() / this.stepMs);
  }

  private nonceFor(step: number): string {
    return `${step}.${createHmac('sha256', this.key).update(`dpop-nonce:${step}`).digest('base64url').slice(0, 32)}`;
  }
}
