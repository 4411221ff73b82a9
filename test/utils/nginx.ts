import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from './process';

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
  if (hasAuthRequest()) return;
  process.stdout.write('forward-auth e2e: installing Debian nginx-light for the auth_request test…\n');
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 180_000 });
  if (apt(['install', '-y', '-qq', 'nginx-light']).status !== 0) {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'nginx-light']);
  }
  if (!hasAuthRequest())
    throw new Error(
      'This test needs Debian nginx with auth_request and could not install it: run `apt-get install -y nginx-light` as root',
    );
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
  const child: ChildProcess = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return stderr + readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return stderr;
    }
  };
  try {
    await waitFor(() => child.exitCode === null && canConnect(port), 10_000, `nginx on port ${port}: ${errorLog()}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    errorLog,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
