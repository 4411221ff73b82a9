import { Clock } from '../common/clock';
import { AppException } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { CredentialFailureLimiter } from './credential-failure-limiter';

describe('CredentialFailureLimiter', () => {
  const limiter = () =>
    new CredentialFailureLimiter(
      { rateLimit: { credentialsPerIp: 3, windowSeconds: 60 } } as AppConfig,
      { now: () => new Date(1_700_000_000_000) } as Clock,
    );
  const blocked = (l: CredentialFailureLimiter, ip: string) => {
    try {
      l.assertAllowed(ip);
      return false;
    } catch (error) {
      return error instanceof AppException && error.getStatus() === 429;
    }
  };

  it('refuses an IP once it has used up its failures, and no other', () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.recordFailure('10.0.0.1');
    expect(blocked(l, '10.0.0.1')).toBe(true);
    expect(blocked(l, '10.0.0.2')).toBe(false);
  });

  it('counts an IPv6 address for its /64, so rotating within it gains nothing', () => {
    const l = limiter();
    ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3'].forEach((ip) => l.recordFailure(ip));
    expect(blocked(l, '2001:db8:1:2:abcd::9')).toBe(true);
    expect(blocked(l, '2001:db8:1:3::1')).toBe(false);
  });
});
