/**
 * sere verify-fixtures <dir> [--device cpu|cuda] [--json]
 * Runs every parity check of the reference fixtures in <dir>, prints each with its largest
 * deviation and bound; exits 1 if any fails, 2 for a bad command line or fixture folder.
 */
import * as path from 'path';
import { EXIT } from '@sere/config';
import { parity } from '@sere/sere';
import * as T from '@sere/torch';
import { VERIFY_FIXTURES_HELP } from '../help/texts';
import { UsageError } from '../usage';

const { fixtureSet, formatCheck, verifyFixtureFile } = parity;
const usage = VERIFY_FIXTURES_HELP.usage;

export function verifyFixtures(argv: string[]): number {
  let dir: string | undefined;
  let device = 'cpu';
  let json = false;
  let failuresOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--device') device = argv[++i] ?? '';
    else if (a.startsWith('--device=')) device = a.slice(9);
    else if (a === '--json') json = true;
    else if (a === '--failures-only') failuresOnly = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown flag ${a}`, usage);
    else if (dir === undefined) dir = a;
    else throw new UsageError(`unexpected argument '${a}'`, usage);
  }
  if (!dir) throw new UsageError('missing the fixture folder', usage);
  T.checkDevice(device);
  // TF32 would round fp32 products to 10 mantissa bits; parity is defined in full fp32.
  if (device !== 'cpu') {
    try {
      T.setAllowTF32(false);
    } catch (e) {
      console.error(`warning: could not turn TF32 off (${(e as Error).message}); fp32 checks may exceed their bounds`);
    }
  }
  // A set may hold only some of the files: those present are checked, the others named.
  const { files, absent } = fixtureSet(dir);
  if (!json && absent.length) console.log(`absent, not checked: ${absent.join(', ')}`);
  let total = 0;
  let passed = 0;
  let failed = 0;
  const reports = [];
  for (const file of files) {
    const t0 = Date.now();
    const r = verifyFixtureFile(file, device);
    reports.push(r);
    total += r.checks.length;
    passed += r.checks.filter((c) => c.ok).length;
    const bad = r.checks.filter((c) => !c.ok).length + (r.error ? 1 : 0);
    failed += bad;
    if (json) continue;
    console.log(`${path.basename(file)}: ${r.checks.length} checks, ${bad} failed (${Date.now() - t0} ms)`);
    if (r.error) console.log(`FAIL ${r.error}`);
    for (const c of r.checks) if (!failuresOnly || !c.ok) console.log(`  ${formatCheck(c)}`);
  }
  if (json) {
    console.log(JSON.stringify({ dir, device, total, failed, absent, files: reports }));
  } else {
    const missing = absent.length ? `; absent: ${absent.join(', ')}` : '';
    console.log(`\n${passed} passed, ${failed} failed (${files.length} fixture files in ${dir}${missing}, device ${device})`);
  }
  return failed === 0 ? EXIT.ok : EXIT.failed;
}
