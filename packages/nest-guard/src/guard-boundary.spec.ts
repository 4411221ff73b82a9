import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The guard is its own package: it imports only its own files, Node's built-ins and the packages
 * its package.json declares (dependencies and peers; specs may also use the repository's dev tools),
 * so a consumer gets it without the rest of Tessera.
 */
describe('@tessera/nest-guard boundary', () => {
  const root = resolve(__dirname, '..');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

  it('imports only its own files, built-ins and declared packages', () => {
    const outside: string[] = [];
    for (const file of files(__dirname)) {
      const isSpec = file.endsWith('.spec.ts');
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*'([^']+)'/g)) {
        if (spec.startsWith('.')) {
          if (relative(__dirname, resolve(dirname(file), spec)).startsWith('..')) outside.push(`${relative(root, file)} → ${spec}`);
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec) && !isSpec && !declared.has(packageOf(spec))) {
          outside.push(`${relative(root, file)} → ${spec} (not in package.json)`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it('keeps passport out of the main entry: only src/passport/ imports the optional peers', () => {
    const optional = new Set(
      Object.entries((manifest.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>)
        .filter(([, m]) => m.optional)
        .map(([name]) => name),
    );
    expect([...optional].sort()).toEqual(['@nestjs/passport', 'passport', 'passport-jwt']);
    const leaks: string[] = [];
    for (const file of files(__dirname)) {
      if (file.endsWith('.spec.ts') || relative(__dirname, file).startsWith('passport')) continue;
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*'([^']+)'/g)) {
        if (optional.has(packageOf(spec)) || spec.startsWith('./passport') || spec.startsWith('../passport'))
          leaks.push(`${relative(root, file)} → ${spec}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
