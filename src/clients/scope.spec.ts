import { formatScope, isScopeToken, MAX_SCOPES, parseScope, scopesOutside } from './scope';

describe('scope', () => {
  describe('isScopeToken', () => {
    it('accepts RFC 6749 §3.3 NQCHAR runs and refuses space, quote, backslash, control and non-ASCII characters', () => {
      for (const ok of ['a', 'orders:read', 'https://api.example.com/x.read', "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"])
        expect(isScopeToken(ok)).toBe(true);
      for (const bad of ['', 'a b', 'a"b', 'a\\b', 'a\tb', 'a\nb', 'é', '\x7f', 'x'.repeat(129), 5, null])
        expect(isScopeToken(bad)).toBe(false);
    });
  });

  describe('parseScope', () => {
    it('splits on spaces, drops empty runs and duplicates, keeps order', () => {
      expect(parseScope('b a  b ')).toEqual(['b', 'a']);
      expect(parseScope('')).toEqual([]);
      expect(parseScope('   ')).toEqual([]);
    });

    it('refuses the whole value when one token is bad or there are too many', () => {
      expect(parseScope('a "b"')).toBeUndefined();
      expect(parseScope('a\tb')).toBeUndefined();
      expect(parseScope(Array.from({ length: MAX_SCOPES }, (_, i) => `s${i}`).join(' '))).toHaveLength(MAX_SCOPES);
      expect(parseScope(Array.from({ length: MAX_SCOPES + 1 }, (_, i) => `s${i}`).join(' '))).toBeUndefined();
    });
  });

  it('formats with single spaces and finds the tokens outside an allowed set', () => {
    expect(formatScope(['a', 'b'])).toBe('a b');
    expect(scopesOutside(['a', 'c', 'd'], ['a', 'b'])).toEqual(['c', 'd']);
    expect(scopesOutside([], [])).toEqual([]);
  });
});
