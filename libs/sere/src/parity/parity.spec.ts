/**
 * Every golden fixture of the reference implementation, held to the README's tolerances.
 * SERE_FIXTURES_DIR points at another set of the same schema (e.g. an acceptance set).
 */
import * as path from 'path';
import * as T from '@sere/torch';
import { FIXTURE_CHECKS, fixtureFiles, formatCheck, verifyFixtureFile } from './index';

const dir = process.env.SERE_FIXTURES_DIR ?? path.resolve(__dirname, '../../../../test/fixtures/reference');

describe(`parity with the reference fixtures in ${dir}`, () => {
  it('finds every fixture file', () => {
    expect(fixtureFiles(dir).map((f) => path.basename(f)).sort()).toEqual(Object.keys(FIXTURE_CHECKS).sort());
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
