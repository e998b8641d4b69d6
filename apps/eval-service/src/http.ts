/**
 * The NestJS shell: liveness, readiness, metrics, and the run's results as JSON. The one
 * route that changes anything (a listing now) needs the bearer token from SERE_EVAL_TOKEN.
 * Decorators are applied as plain calls: the repository compiles without
 * `experimentalDecorators`, and the effect is the same metadata.
 */
import 'reflect-metadata';
import { timingSafeEqual } from 'crypto';
import { Controller, Get, Header, Headers, HttpCode, HttpException, HttpStatus, Inject, Module, Param, Post, type DynamicModule } from '@nestjs/common';
import type { EvalIndex, EvalService, Readiness } from './eval-service';

export const EVAL_SERVICE = Symbol('EVAL_SERVICE');
export const EVAL_TOKEN = Symbol('EVAL_TOKEN');

function route(target: { prototype: object }, method: string, ...decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method)!;
  for (const d of decorators) d(target.prototype, method, descriptor);
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class EvalController {
  constructor(
    private readonly service: EvalService,
    private readonly token: string | null,
  ) {}

  health(): { ok: true } {
    return { ok: true };
  }

  ready(): Readiness {
    const r = this.service.ready();
    if (!r.ready) throw new HttpException(r, HttpStatus.SERVICE_UNAVAILABLE);
    return r;
  }

  metrics(): Promise<string> {
    return this.service.metrics.text();
  }

  runs() {
    return [this.service.summary()];
  }

  evals(run: string): EvalIndex {
    this.known(run);
    return this.service.evals();
  }

  report(run: string): Promise<string> {
    this.known(run);
    return this.service.report();
  }

  async scan(run: string, authorization: string | undefined): Promise<{ scanned: true }> {
    if (!this.token) throw new HttpException({ error: 'this service was started without SERE_EVAL_TOKEN: routes that change state are off' }, HttpStatus.FORBIDDEN);
    const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!given || !sameToken(given, this.token)) throw new HttpException({ error: 'missing or wrong bearer token (Authorization: Bearer $SERE_EVAL_TOKEN)' }, HttpStatus.UNAUTHORIZED);
    this.known(run);
    await this.service.scan();
    return { scanned: true };
  }

  private known(run: string): void {
    const name = this.service.summary().run;
    if (run !== name) throw new HttpException({ error: `no run '${run}' here; this service watches '${name}'` }, HttpStatus.NOT_FOUND);
  }
}
Controller()(EvalController);
Inject(EVAL_SERVICE)(EvalController, undefined, 0);
Inject(EVAL_TOKEN)(EvalController, undefined, 1);
route(EvalController, 'health', Get('health'));
route(EvalController, 'ready', Get('ready'));
route(EvalController, 'metrics', Get('metrics'), Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8'));
route(EvalController, 'runs', Get('runs'));
Param('run')(EvalController.prototype, 'evals', 0);
route(EvalController, 'evals', Get('runs/:run/evals'));
Param('run')(EvalController.prototype, 'report', 0);
route(EvalController, 'report', Get('runs/:run/report'), Header('Content-Type', 'text/html; charset=utf-8'), Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
Param('run')(EvalController.prototype, 'scan', 0);
Headers('authorization')(EvalController.prototype, 'scan', 1);
route(EvalController, 'scan', Post('runs/:run/scan'), HttpCode(200));

export class EvalHttpModule {
  static forService(service: EvalService, token: string | null): DynamicModule {
    return {
      module: EvalHttpModule,
      controllers: [EvalController],
      providers: [
        { provide: EVAL_SERVICE, useValue: service },
        { provide: EVAL_TOKEN, useValue: token },
      ],
    };
  }
}
Module({})(EvalHttpModule);
