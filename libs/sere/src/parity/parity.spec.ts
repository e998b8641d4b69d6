/**
 * Every golden fixture of the reference implementation, held to the README's tolerances.
 * SERE_FIXTURES_DIR points at another set of the same schema (e.g. an acceptance set).
 */
import * as path from 'path';
import * as T from '@sere/torch';
import { FIXTURE_CHECKS, fixtureSet, formatCheck, verifyFixtureFile } from './index';

const dir = process.env.SERE_FIXTURES_DIR ?? path.resolve(__dirname, '../../../../test/fixtures/reference');

describe(`parity with the reference fixtures in ${dir}`, () => {
  it('finds every fixture file', () => {
    expect(fixtureSet(dir).files.map((f) => path.basename(f)).sort()).toEqual(Object.keys(FIXTURE_CHECKS).sort());
  });

  for (const file of Object.keys(FIXTURE_CHECKS)) {
    it(`${file}: every check within tolerance, no tensor leaked`, () => {
      const before = T.liveTensors();
      const report = verifyFixtureFile(path.join(dir, file));
      expect(report.error).toBeUndefined();
      expect(report.checks.length).toBeGreaterThan(5);
      const failed = report.checks.filter((c) => !c.ok).map(formatCheck);
      expect(failed).toEqual([]);
      expect(T.liveTensors()).toBe(before);
    });
  }
});

// Made by bench/reference/make_fixture.py (see its README): the ViT-B/16 recipe's head, whose
// weight_g is frozen at 1 and so has a step entry without gradient fields.
const normLastLayer = path.resolve(__dirname, '../../../../test/fixtures/norm-last-layer');

describe('parity with the norm_last_layer set (full_step.json only)', () => {
  it('holds full_step.json and names the five files it lacks', () => {
    const set = fixtureSet(normLastLayer);
    expect(set.files.map((f) => path.basename(f))).toEqual(['full_step.json']);
    expect(set.absent.sort()).toEqual(Object.keys(FIXTURE_CHECKS).filter((f) => f !== 'full_step.json').sort());
  });

  it('full_step.json: every check within tolerance, the frozen weight_g checked as frozen, no tensor leaked', () => {
    const before = T.liveTensors();
    const report = verifyFixtureFile(path.join(normLastLayer, 'full_step.json'));
    expect(report.error).toBeUndefined();
    expect(report.checks.filter((c) => !c.ok).map(formatCheck)).toEqual([]);
    const names = report.checks.map((c) => c.name);
    const g = 'full_step/step/head.last_layer.weight_g';
    expect(names).toEqual(expect.arrayContaining([`${g}/frozen`, `${g}/param_after`, `${g}/teacher_after`]));
    expect(names).not.toContain(`${g}/grad_after_clip`);
    // weight_v is trainable here and stepped like any other parameter.
    expect(names).toContain('full_step/step/head.last_layer.weight_v/grad_after_clip');
    expect(names).not.toContain('full_step/grad/head.last_layer.weight_g');
    expect(T.liveTensors()).toBe(before);
  });
});
