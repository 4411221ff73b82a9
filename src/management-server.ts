import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { describeErrorCode, ErrorCode, reasonPhrase } from './common/errors/error-code';
import { MetricsService } from './observability/metrics.service';

export interface ManagementListener {
  host: string;
  port: number;
}

const HEALTH_PATHS = new Set(['/health/live', '/health/ready']);

/**
 * The optional management listener (MANAGEMENT_PORT, docs/adr/0015): `/metrics` and the health
 * endpoints on a port of their own, as Keycloak and Hydra keep them off the public one. A plain
 * node:http server: metrics straight from MetricsService, health through Fastify's inject() into
 * the same HealthController the public port serves, so the answers cannot drift apart. Started
 * when Fastify is ready and closed with it.
 */
export function registerManagementListener(
  app: NestFastifyApplication,
  listener: ManagementListener,
  log: (message: string) => void,
): void {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  let server: Server | undefined;
  fastify.addHook('onReady', async () => {
    const metrics = app.get(MetricsService);
    server = createServer((req, res) => {
      handle(req, res, metrics, fastify).catch(() => send(res, 500, errorBody(500, ErrorCode.INTERNAL_ERROR)));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(listener.port, listener.host, () => resolve());
    });
    log(`Management listener (metrics, health) on http://${listener.host}:${listener.port}`);
  });
  fastify.addHook('onClose', async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, metrics: MetricsService, fastify: FastifyInstance): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const known = path === '/metrics' || HEALTH_PATHS.has(path);
  if (!known)
    return send(
      res,
      404,
      errorBody(404, ErrorCode.NOT_FOUND, 'Not found: the management port serves /metrics, /health/live and /health/ready'),
    );
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, errorBody(405, ErrorCode.METHOD_NOT_ALLOWED));
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : await metrics.registry.metrics());
    return;
  }
  const answer = await fastify.inject({ method: 'GET', url: path });
  res.writeHead(answer.statusCode, {
    'content-type': String(answer.headers['content-type'] ?? 'application/json; charset=utf-8'),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : answer.body);
}

function errorBody(status: number, code: ErrorCode, message = describeErrorCode(code).message): string {
  return JSON.stringify({ statusCode: status, error: reasonPhrase(status), code, message });
}

function send(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}
