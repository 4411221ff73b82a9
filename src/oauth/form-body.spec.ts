import { isFormRoute, parseForm } from './form-body';

describe('parseForm', () => {
  it('decodes form encoding into an object without a prototype', () => {
    const parsed = parseForm('grant_type=client_credentials&scope=a+b%20c&empty=&__proto__=x');
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.keys(parsed)).toEqual(['grant_type', 'scope', 'empty', '__proto__']);
    expect([parsed.grant_type, parsed.scope, parsed.empty]).toEqual(['client_credentials', 'a b c', '']);
    // An own data member, not the prototype: it can do no harm.
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(parsed['__proto__']).toBe('x');
  });

  it('keeps every value of a repeated parameter so it can be refused', () => {
    expect(parseForm('a=1&a=2&a=3').a).toEqual(['1', '2', '3']);
  });
});

describe('isFormRoute', () => {
  it('admits /oauth/* only', () => {
    expect(isFormRoute('/oauth/token')).toBe(true);
    expect(isFormRoute('/oauth/revoke?x=1')).toBe(true);
    expect(isFormRoute('/v1/tenants')).toBe(false);
    expect(isFormRoute('/oauthx')).toBe(false);
  });
});
