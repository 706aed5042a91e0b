import { createServer, type Server } from 'node:http';
import type { MetricsRegistry } from '../base/metrics.ts';
import { registerProcessMetrics } from '../base/process-metrics.ts';

/**
 * The per-process HTTP endpoint: `/metrics` (Prometheus text, with the process metrics of
 * process-metrics.ts added) and `/health` (200 with a JSON body while `healthy()` says so, 503
 * otherwise).
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: MetricsRegistry;
  health: () => { healthy: boolean; [detail: string]: unknown };
}): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(options.registry.render());
    } else if (request.url === '/health') {
      const health = options.health();
      response
        .writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(health));
    } else {
      response.writeHead(404).end('not found\n');
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : options.port);
    });
  });
  const processMetrics = registerProcessMetrics(options.registry);
  server.once('close', () => processMetrics.close());
  return { server, port };
}
