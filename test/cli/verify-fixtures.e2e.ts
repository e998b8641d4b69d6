/**
 * `sere verify-fixtures` as a user runs it: on the public set, on a set that holds only
 * full_step.json made with norm_last_layer true, and on a malformed file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSere } from '../support/run-sere';

jest.setTimeout(120_000);

const FIXTURES = path.resolve(__dirname, '../fixtures');

const verify = (...args: string[]) => runSere(['verify-fixtures', ...args]);

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+|TypeError/);

describe('sere verify-fixtures', () => {
  it('passes the public reference set', () => {
    const r = verify(path.join(FIXTURES, 'reference'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = /^(\d+) passed, 0 failed \(6 fixture files in .*reference, device cpu\)$/m.exec(r.stdout);
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(250);
  });

  it('passes the norm_last_layer set and names the files it does not hold', () => {
    const r = verify(path.join(FIXTURES, 'norm-last-layer'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^absent, not checked: vit_forward\.json, head_forward\.json, ibot_loss\.json, sere_loss\.json, schedules\.json$/m);
    expect(r.stdout).toMatch(/^ {2}ok {3}full_step\/step\/head\.last_layer\.weight_g\/frozen /m);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed \(1 fixture files in .*norm-last-layer; absent: vit_forward\.json, .*, device cpu\)$/m);
  });

  it('says the same in --json', () => {
    const r = verify(path.join(FIXTURES, 'norm-last-layer'), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.failed).toBe(0);
    expect(out.absent).toHaveLength(5);
    expect(out.files.map((f: { file: string }) => path.basename(f.file))).toEqual(['full_step.json']);
  });

  it('fails a malformed file with one line naming the file and the field, exit 1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-verify-'));
    try {
      const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'norm-last-layer/full_step.json'), 'utf8'));
      delete fx.step['head.last_layer.weight_g'].teacher_after;
      fs.writeFileSync(path.join(dir, 'full_step.json'), JSON.stringify(fx));
      const r = verify(dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^FAIL full_step\.json: step\["head\.last_layer\.weight_g"\]\.teacher_after: missing$/m);
      expect(r.stdout).toMatch(/^0 passed, 1 failed \(1 fixture files in /m);
      noStackTrace(r.stdout + r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a folder that holds no fixture file, exit 2', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-verify-empty-'));
    try {
      const r = verify(dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds none of vit_forward\.json/);
      noStackTrace(r.stdout + r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
