/**
 * Runs a reference computation with the system's Python (Debian's NumPy/PyTorch/Pillow),
 * for specs that compare against an independent implementation. A missing interpreter is a
 * failure with a message, never a skipped test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const PYTHON = '/usr/bin/python3';

export function runPython(script: string, args: string[] = []): string {
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: this spec compares against NumPy/PyTorch run by the system Python (install python3-numpy, python3-torch, python3-pil)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'sere-eval-py-'));
  try {
    const file = path.join(dir, 'reference.py');
    writeFileSync(file, script);
    const r = spawnSync(PYTHON, [file, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.error) throw new Error(`${PYTHON} could not be started: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${PYTHON} reference script failed (exit ${r.status}):\n${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
