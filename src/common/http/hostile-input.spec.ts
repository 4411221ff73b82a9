import { findHostileValue, isUtf8OrNoCharset, jsonDepthExceeds } from './hostile-input';

describe('hostile-input', () => {
  describe('isUtf8OrNoCharset', () => {
    it.each([
      ['application/json', true],
      ['application/json; charset=utf-8', true],
      ['application/json;charset="UTF-8"', true],
      ['application/x-www-form-urlencoded; charset=utf8', true],
      ['application/json; boundary=x', true],
      ['application/json; charset=iso-8859-1', false],
      ['application/json; charset=utf-16', false],
      ['application/json; charset=utf-8; charset=latin1', false],
    ])('%s → %s', (type, expected) => {
      expect(isUtf8OrNoCharset(type)).toBe(expected);
    });
  });

  describe('jsonDepthExceeds', () => {
    it('counts objects and arrays outside strings only', () => {
      expect(jsonDepthExceeds('{"a":{"b":[1,[2]]}}', 4)).toBe(false);
      expect(jsonDepthExceeds('{"a":{"b":[1,[2]]}}', 3)).toBe(true);
      expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}"}`, 2)).toBe(false);
      expect(jsonDepthExceeds('{"a":"\\"[[[[","b":1}', 1)).toBe(false);
      expect(jsonDepthExceeds('['.repeat(33) + ']'.repeat(33), 32)).toBe(true);
    });
  });

  describe('findHostileValue', () => {
    it('names the first value with a control character, a lone surrogate or U+FFFD', () => {
      expect(findHostileValue({ a: 'fine é 😀', b: ['x'] })).toBeUndefined();
      expect(findHostileValue({ a: 'ok', b: 'x\u0000' })).toBe('b');
      expect(findHostileValue({ a: ['ok', '\u001b[31m'] })).toBe('a');
      expect(findHostileValue({ kid: '\ud800' })).toBe('kid');
      expect(findHostileValue({ q: 'bad \ufffd' })).toBe('q');
      expect(findHostileValue(undefined)).toBeUndefined();
    });
  });
});
