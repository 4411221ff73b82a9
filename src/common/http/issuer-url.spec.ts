import { isLoopbackHost, issuerUrlProblem } from './issuer-url';

describe('issuer URLs', () => {
  describe('issuerUrlProblem', () => {
    it('accepts https, and http on loopback only with the test switch', () => {
      expect(issuerUrlProblem('https://token.actions.githubusercontent.com', 'issuer', false)).toBeUndefined();
      expect(issuerUrlProblem('http://127.0.0.1:8080', 'issuer', true)).toBeUndefined();
      expect(issuerUrlProblem('http://[::1]:8080/x', 'issuer', true)).toBeUndefined();
      expect(issuerUrlProblem('http://127.0.0.1:8080', 'issuer', false)).toMatch(/ALLOW_INSECURE_ISSUERS_FOR_TESTS/);
      expect(issuerUrlProblem('http://10.0.0.1', 'issuer', true)).toMatch(/https/);
      expect(issuerUrlProblem('http://127.0.0.1.example.com', 'issuer', true)).toMatch(/https/);
    });

    it('refuses other schemes, credentials, fragments, relative and over-long URLs', () => {
      expect(issuerUrlProblem('file:///etc/passwd', 'jwksUri', true)).toMatch(/https/);
      expect(issuerUrlProblem('https://u:p@example.com', 'jwksUri', false)).toMatch(/credentials/);
      expect(issuerUrlProblem('https://example.com/#x', 'jwksUri', false)).toMatch(/fragment/);
      expect(issuerUrlProblem('/jwks', 'jwksUri', false)).toMatch(/absolute/);
      expect(issuerUrlProblem(`https://example.com/${'a'.repeat(1100)}`, 'jwksUri', false)).toMatch(/at most/);
    });
  });

  it('isLoopbackHost knows 127/8, ::1 and localhost only', () => {
    expect(['127.0.0.1', '127.9.9.9', '[::1]', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['128.0.0.1', 'example.com', '::2'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});
