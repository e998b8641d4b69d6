/**
 * Eval service entry point: `npm run eval-service -- --store DIR|s3://BUCKET/PREFIX --data_path DIR ...`
 * (or `npx sere eval-service ...`, or the SERE_EVAL_* environment variables; --help lists them).
 * NestJS ships as ES modules only; Node 20.19+ loads them from this CommonJS file, but jest
 * cannot, so tests run this file as a child process.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { openStore } from '@sere/store';
import { ConfigError, helpText, loadConfig, type EvalServiceConfig } from './config';
import { EvalWorker } from './eval-worker/eval-worker';
import { EvalService, type Logger } from './eval-service';
import { EvalHttpModule } from './http';
import { EvalMetrics } from './metrics';

/** One JSON object per line on stdout, for the cluster's log collectors. */
function logger(run: string): Logger {
  const line = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, service: 'eval-service', run, ...fields }) + '\n');
  };
  return { info: line('info'), warn: line('warn') };
}

export async function startEvalService(cfg: EvalServiceConfig): Promise<{ service: EvalService; stop: () => Promise<void> }> {
  const log = logger(cfg.run);
  const store = openStore(cfg.store);
  const service = new EvalService(cfg, store, new EvalWorker(), new EvalMetrics(), log);
  const app = await NestFactory.create(EvalHttpModule.forService(service, cfg.token), { logger: ['error', 'warn'] });
  await app.listen(cfg.port, cfg.host);
  const address = app.getHttpServer().address() as { address: string; port: number } | null;
  log.info('listening', { host: address?.address ?? cfg.host, port: address?.port ?? cfg.port });
  await service.start();
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await service.stop();
      await app.close();
    })());
  return { service, stop };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return;
  }
  const { stop } = await startEvalService(loadConfig(argv, process.env));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop().then(() => process.exit(0)));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    if (e instanceof ConfigError) {
      console.error(`eval-service: ${e.message}`);
      process.exit(2);
    }
    console.error(`eval-service: ${(e as Error).message ?? e}`);
    process.exit(1);
  });
}
