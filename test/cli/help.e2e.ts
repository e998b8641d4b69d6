/**
 * `sere <command> --help` and `-h` for every command, as a user runs them: exit 0, the
 * command's usage on stdout and the exit codes it can end with, taken from the one table.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '@sere/config';
import { SERE } from '../support/tiny-run';

jest.setTimeout(120_000);

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-help-'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

function sere(...args: string[]) {
  const r = spawnSync(process.execPath, [SERE, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The lines of the `exit codes:` section as [code, meaning]. */
function exitCodes(text: string): [number, string][] {
  const section = text.split(/^exit codes[^\n]*:\n/m)[1] ?? '';
  return section
    .split('\n')
    .map((l) => /^ {2}(\d+)\s+(.+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), m[2]]);
}

const COMMANDS: [string, number[]][] = [
  ['train', [0, 1, 2, 3, 64, 65, 66, 69, 73, 74, 77, 130]],
  ['eval', [0, 1, 2, 64, 65, 69, 74, 77]],
  ['demo', [0, 1, 2, 3, 64, 65, 66, 69, 73, 74, 77]],
  ['data synth', [0, 1, 2]],
  ['data scan', [0, 1, 2]],
  ['data', [0, 1, 2]],
  ['verify-fixtures', [0, 1, 2]],
];

describe.each(COMMANDS)('sere %s --help', (name, codes) => {
  it.each(['--help', '-h'])(`prints the usage of sere ${name} and its exit codes (%s), exit 0`, (flag) => {
    const r = sere(...name.split(' '), flag);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^usage: sere ${name}( |$)`, 'im'));
    expect(exitCodes(r.stdout).map(([c]) => c)).toEqual(codes);
    expect(r.stdout).not.toMatch(/unknown flag/);
  });
});

describe('the help texts', () => {
  it('sere data scan --help: 0 clean, 1 problems found, 2 refused', () => {
    expect(exitCodes(sere('data', 'scan', '--help').stdout)).toEqual([
      [0, expect.stringMatching(/^clean/)],
      [1, expect.stringMatching(/^problems found/)],
      [2, expect.stringMatching(/^refused/)],
    ]);
  });

  it('say what a code means in the words of the table', () => {
    const codes = new Map(exitCodes(sere('train', '--help').stdout));
    expect(codes.get(EXIT.unavailable)).toMatch(/unreachable.*EX_UNAVAILABLE/);
    expect(codes.get(EXIT.interrupted)).toMatch(/interrupted/);
    expect(codes.get(EXIT.noSpace)).toMatch(/disk is full/);
  });

  it('sere train --help still lists every flag', () => {
    const out = sere('train', '--help').stdout;
    expect(out).toMatch(/--batch_size_per_gpu/);
    expect(out).toMatch(/--output_dir/);
  });

  it('sere eval --help lists its options', () => {
    const out = sere('eval', '--help').stdout;
    for (const flag of ['--checkpoint', '--random', '--data_path', '--val_path', '--checkpoint_key', '--json']) expect(out).toContain(flag);
  });

  it('sere data synth -h draws nothing (it used to write a dataset into ./-h)', () => {
    expect(sere('data', 'synth', '-h').code).toBe(0);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('sere help <command> is sere <command> --help', () => {
    expect(sere('help', 'eval')).toEqual(sere('eval', '--help'));
    expect(sere('help', 'data', 'scan')).toEqual(sere('data', 'scan', '--help'));
  });

  it('sere --help lists every command and the whole table', () => {
    const r = sere('--help');
    expect(r.code).toBe(0);
    for (const c of ['demo', 'train', 'eval', 'data synth', 'data scan', 'verify-fixtures']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(exitCodes(r.stdout).map(([c]) => c)).toEqual(Object.values(EXIT));
  });

  it('a command line without a command, or with an unknown one, is refused with the list (exit 2)', () => {
    expect(sere().code).toBe(2);
    const unknown = sere('trian');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'trian'[\s\S]*train/);
    const sub = sere('data', 'frob');
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/unknown subcommand 'frob'[\s\S]*usage: sere data/);
  });
});
