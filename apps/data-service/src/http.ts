/**
 * The NestJS shell: GET /health (liveness), GET /ready (readiness) and GET /metrics over a DataService. Decorators are applied
 * as plain calls because the repository compiles without `experimentalDecorators` (TypeScript's
 * standard decorators are not what Nest expects); the effect is the same metadata.
 */
import 'reflect-metadata';
import { Controller, Get, Header, HttpException, HttpStatus, Inject, Module, type DynamicModule } from '@nestjs/common';
import type { DataService, Health, Readiness } from './data-service';

export const DATA_SERVICE = Symbol('DATA_SERVICE');

function route(target: { prototype: object }, method: string, ...decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method)!;
  for (const d of decorators) d(target.prototype, method, descriptor);
}

export class HealthController {
  constructor(private readonly service: DataService) {}

  health(): Health {
    const h = this.service.health();
    if (!h.ok) throw new HttpException(h, HttpStatus.SERVICE_UNAVAILABLE);
    return h;
  }

  ready(): Readiness {
    const r = this.service.ready();
    if (!r.ready) throw new HttpException(r, HttpStatus.SERVICE_UNAVAILABLE);
    return r;
  }
}
Controller()(HealthController);
Inject(DATA_SERVICE)(HealthController, undefined, 0);
route(HealthController, 'health', Get('health'));
route(HealthController, 'ready', Get('ready'));

export class MetricsController {
  constructor(private readonly service: DataService) {}

  metrics(): Promise<string> {
    return this.service.metrics.text();
  }
}
Controller()(MetricsController);
Inject(DATA_SERVICE)(MetricsController, undefined, 0);
// prom-client's registry content type (text exposition format 0.0.4).
route(MetricsController, 'metrics', Get('metrics'), Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8'));

export class HttpModule {
  static forService(service: DataService): DynamicModule {
    return { module: HttpModule, controllers: [HealthController, MetricsController], providers: [{ provide: DATA_SERVICE, useValue: service }] };
  }
}
Module({})(HttpModule);
