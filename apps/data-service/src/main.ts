/**
 * NestJS 12 ships as ES modules only; Node 20.19+ loads them from this CommonJS file
 * (require(esm)), but jest cannot, so tests run this file as a child process.
 *
 * Data service entry point: `npx tsx apps/data-service/src/main.ts --data-dir DIR --ranks 8 ...`
 * (or the SERE_* environment variables; --help lists them with advice).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { DataError } from '@sere/dataset';
import { ConfigError, helpText, loadConfig, type ServiceConfig } from './config';
import { DataService } from './data-service';
import { HttpModule } from './http';
import { jsonLogger } from './log';

export async function startDataService(cfg: ServiceConfig): Promise<{ service: DataService; app: INestApplication; stop: () => Promise<void> }> {
  const log = jsonLogger({ service: 'data-service', replica: cfg.replica });
  const service = new DataService(cfg, log);
  await service.start();
  const app = await NestFactory.create(HttpModule.forService(service), { logger: ['error', 'warn'] });
  await app.listen(cfg.port, cfg.host);
  const address = app.getHttpServer().address() as { address: string; port: number } | null;
  log.info('listening', { host: address?.address ?? cfg.host, port: address?.port ?? cfg.port, prefix: cfg.prefix, ranks: cfg.ranks, replicas: cfg.replicas });
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await service.stop();
      await app.close();
    })());
  return { service, app, stop };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return;
  }
  const cfg = loadConfig(argv, process.env);
  const { service, stop } = await startDataService(cfg);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then(() => process.exit(0));
    });
  }
  await service.finished();
  // Finished all epochs: keep serving /health and /metrics until told to stop, so an
  // orchestrator does not restart a replica that did its job.
}

if (require.main === module) {
  main().catch((e: unknown) => {
    if (e instanceof ConfigError || e instanceof DataError) {
      console.error(`data-service: ${e.message}`);
      process.exit(2);
    }
    console.error('data-service: fatal:', e);
    process.exit(1);
  });
}
