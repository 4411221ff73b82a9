import { Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AppConfig } from '../config/app-config';

interface Window {
  failures: number;
  resetsAt: number;
}

const MAX_TRACKED = 100_000;

/**
 * Counts failed credential checks (API keys, client secrets) per client IP in a fixed
 * window. The IP is request.ip, as TRUST_PROXY lets Fastify derive it (never a header read
 * here), and an IPv6 address counts for its /64 as in the request limits, since one host
 * holds a whole /64 to rotate through. Once an IP reaches RATE_LIMIT_CREDENTIALS_PER_IP
 * failures, every credential check from it answers 429 until the window ends — including
 * a correct guess, so that guessing gains nothing. Successful calls are not counted (the general limits apply).
 * Per process: with N replicas an attacker gets N× the budget, still far from 2^256.
 */
@Injectable()
export class CredentialFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Throws 429 RATE_LIMITED when this IP has used up its failures. */
  assertAllowed(ip: string): void {
    const limit = this.config.rateLimit.credentialsPerIp;
    if (limit === 0) return;
    const window = this.current(normalizeIp(ip));
    if (window && window.failures >= limit) {
      const retryAfter = Math.max(1, Math.ceil((window.resetsAt - this.clock.now().getTime()) / 1000));
      throw new AppException(ErrorCode.RATE_LIMITED, 'Too many failed authentication attempts: retry after the time in Retry-After', {
        'retry-after': String(retryAfter),
      });
    }
  }

  recordFailure(address: string): void {
    if (this.config.rateLimit.credentialsPerIp === 0) return;
    const ip = normalizeIp(address);
    const window = this.current(ip);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= MAX_TRACKED) this.evictExpired();
    this.windows.set(ip, { failures: 1, resetsAt: this.clock.now().getTime() + this.config.rateLimit.windowSeconds * 1000 });
  }

  private current(ip: string): Window | undefined {
    const window = this.windows.get(ip);
    if (window && window.resetsAt <= this.clock.now().getTime()) {
      this.windows.delete(ip);
      return undefined;
    }
    return window;
  }

  private evictExpired(): void {
    const now = this.clock.now().getTime();
    for (const [ip, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(ip);
    // Still full of live windows: drop the oldest entries rather than grow without bound.
    for (const ip of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED) break;
      this.windows.delete(ip);
    }
  }
}
