import { parseForwardAuthRules } from '../config/forward-auth/forward-auth-config';
import { PathPattern } from '../config/forward-auth/path-pattern';
import { normalisePath } from './forwarded-request';

const matches = (pattern: string, paths: string[]) => paths.map((p) => PathPattern.compile(pattern).test(p));

describe('PathPattern', () => {
  it('matches a trailing * as a prefix, ** as one or more segments, another * within a segment, the rest literally', () => {
    expect(matches('/orders/*', ['/orders/1', '/orders/', '/orders/a.b', '/orders/1/items'])).toEqual([true, true, true, true]);
    expect(matches('/orders/*', ['/orders', '/ordersX/1', '/x/orders/1'])).toEqual([false, false, false]);
    expect(matches('/orders/*/items', ['/orders/1/items', '/orders/1/2/items', '/orders/1/items/3'])).toEqual([true, false, false]);
    expect(matches('/orders/**/items', ['/orders/1/items', '/orders/1/2/items', '/orders/items', '/orders/1/items/x'])).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(matches('/orders/**', ['/orders/', '/orders/1', '/orders/1/2/', '/orders', '/ordersX'])).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(matches('/**/items', ['/a/items', '/a/b/items', '/items'])).toEqual([true, true, false]);
    expect(matches('/v1*', ['/v1', '/v10', '/v1/x/y', '/v2'])).toEqual([true, true, true, false]);
    expect(matches('/files/*.pdf', ['/files/a.pdf', '/files/.pdf', '/files/a.pdf.exe', '/files/a/b.pdf'])).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(matches('/a/*b*c/d', ['/a/bc/d', '/a/xbyc/d', '/a/xcb/d'])).toEqual([true, true, false]);
    expect(matches('/a.b/(x)', ['/a.b/(x)', '/aXb/(x)'])).toEqual([true, false]);
    expect(matches('/exact', ['/exact', '/exact/', '/exact/more'])).toEqual([true, false, false]);
    expect(matches('/', ['/', '/a'])).toEqual([true, false]);
    expect(matches('/*', ['/', '/a', '/a/b/'])).toEqual([true, true, true]);
  });

  it('keeps the meaning the rules had as regular expressions (** = any run including /, trailing * = prefix)', () => {
    const legacy = (glob: string) => {
      let source = '';
      for (let i = 0; i < glob.length; i++) {
        if (glob[i] === '*' && (glob[i + 1] === '*' || i === glob.length - 1)) {
          source += '.*';
          if (glob[i + 1] === '*') i++;
        } else if (glob[i] === '*') source += '[^/]*';
        else source += glob[i].replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      }
      return new RegExp(`^${source}$`);
    };
    const patterns = ['/a/*', '/a/**', '/a/**/b', '/**/b', '/a/*/b', '/a*', '/a/*x*/b/**/c/*', '/**/**/b', '/*', '/a/', '/a/b*c'];
    const paths = [
      '/',
      '/a',
      '/a/',
      '/a/b',
      '/a/b/',
      '/a/x/b',
      '/a/x/y/b',
      '/ab',
      '/a/b/c',
      '/a/xx/b/q/c/r',
      '/a/x/b/c/z',
      '/a/bxc',
      '/b',
      '/q/b',
    ];
    for (const pattern of patterns) {
      for (const path of paths) {
        expect({ pattern, path, match: PathPattern.compile(pattern).test(path) }).toEqual({
          pattern,
          path,
          match: legacy(pattern).test(path),
        });
      }
    }
  });

  // Before: a regular expression with four `.*` against this path backtracked for minutes, blocking the event
  // loop. The small timeout marks the test failed should matching ever backtrack again.
  it('matches four ** and four in-segment * against 2 KB+ hostile paths at once', () => {
    const [deep, inSegment] = parseForwardAuthRules([
      { method: '*', path: '/**/x/**/x/**/x/**/y', scopes: [] },
      { method: '*', path: '/s/*a*a*a*a*b', scopes: [] },
    ]).map((r) => r.pattern);
    const xs = '/x'.repeat(1100); // 2.2 KB, no y
    expect(normalisePath(xs)).toBe(xs);
    expect(deep.test(xs)).toBe(false);
    expect(deep.test(`${xs}/y`)).toBe(true);
    expect(deep.test('/q/x/q/x/q/x/q/y')).toBe(true);
    expect(deep.test('/x/x/x/y')).toBe(false); // each ** needs a segment
    const as = `/s/${'a'.repeat(2100)}`;
    expect(inSegment.test(as)).toBe(false);
    expect(inSegment.test(`${as}b`)).toBe(true);
  }, 2000);
});
