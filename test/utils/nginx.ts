import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureDebianPackage, startDaemon } from './debian-daemon';
import { freePort } from './process';

export interface RunningNginx {
  port: number;
  errorLog(): string;
  stop(): Promise<void>;
}

const NGINX = '/usr/sbin/nginx';

const hasAuthRequest = (): boolean => {
  const probe = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  return !probe.error && `${probe.stderr}${probe.stdout}`.includes('--with-http_auth_request_module');
};

/**
 * The test set-up installs Debian's nginx (`nginx-light`, which has auth_request) when it is
 * missing, as CI does; where that is impossible (no root, no apt) it says what to run.
 */
export function ensureNginxInstalled(): void {
  ensureDebianPackage('nginx-light', hasAuthRequest, 'nginx with auth_request', 'forward-auth e2e');
}

/**
 * The nginx snippet README.md shows between `<!-- <name>:start -->` and `<!-- <name>:end -->`,
 * so that a test runs exactly what operators are told to write. `replace` swaps the README's
 * placeholder addresses (e.g. `http://tessera:3000`) for the test's; each must occur.
 */
export function readmeNginxSnippet(name: string, replace: Record<string, string> = {}): string {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const block = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`nginx\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(readme);
  if (!block) throw new Error(`README.md has no nginx block between <!-- ${name}:start --> and <!-- ${name}:end -->`);
  let snippet = block[1];
  for (const [from, to] of Object.entries(replace)) {
    if (!snippet.includes(from)) throw new Error(`The README snippet ${name} no longer contains ${from}`);
    snippet = snippet.split(from).join(to);
  }
  return snippet;
}

/** Starts nginx in the foreground with `httpBlock` as its http {} contents; `{{port}}` is replaced by its listen port. */
export async function startNginx(httpBlock: (port: number) => string): Promise<RunningNginx> {
  ensureNginxInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-nginx-'));
  chmodSync(dir, 0o755);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, sub));
    chmodSync(join(dir, sub), 0o777);
  }
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${httpBlock(port)}
}
`,
  );
  const errorFile = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const daemon = await startDaemon('nginx', NGINX, ['-c', conf, '-p', dir], port, errorFile);
  return { port, errorLog: daemon.output, stop: daemon.stop };
}
