/**
 * libtorch errors from any native entry point must reach JS as Errors. Each case runs in a
 * child process: before the guard, these calls ended in `terminate called after throwing
 * c10::Error`, which inside jest would take the whole run down instead of failing one test.
 */
import { spawnSync } from 'child_process';
import { addonFile } from './native';

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `body` (plain JS; `addon`, `op`, `x` in scope) and prints the message it throws. */
function inChild(body: string): Outcome {
  const code = `
    const addon = require(${JSON.stringify(addonFile)});
    const op = (name, overload, args) => addon.callOp(addon.findOp(name, overload), args);
    const x = addon.fromBuffer(new Float32Array([1, 0, 0, 2]), [2, 2], 'float32');
    const nested = () => op('aten::_nested_tensor_from_tensor_list', '', [[x, addon.fromBuffer(new Float32Array(6), [3, 2], 'float32')]]);
    try {
      ${body};
      console.log('no error');
    } catch (e) {
      console.log((e instanceof Error ? 'Error: ' : 'not an Error: ') + e.message);
    }`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr };
}

/** Exits normally, printing exactly one line: the JS error. */
function expectJsError(o: Outcome, message: RegExp): void {
  const abort = o.stderr.match(/terminate called[^\n]*\n[^\n]*/)?.[0];
  expect({ status: o.status, signal: o.signal, abort }).toEqual({ status: 0, signal: null, abort: undefined });
  expect(o.stdout).toMatch(/^Error: /);
  expect(o.stdout).toMatch(message);
}

describe('native calls throw JS errors instead of aborting the process', () => {
  beforeAll(() => expect(addonFile).toBeDefined());

  it('dataPtr() on a sparse tensor', () => {
    expectJsError(inChild(`op('aten::to_sparse', '', [x]).dataPtr()`), /^Error: dataPtr: a float32\[2, 2\]\(Sparse\) tensor has no single data pointer$/);
  });

  it('shape() on a nested tensor', () => {
    expectJsError(inChild('nested().shape()'), /^Error: shape: a nested tensor has no single shape \(float32\[nested\]\)/);
  });

  it('a failing op with a nested argument names the arguments it can describe', () => {
    expectJsError(
      inChild(`op('aten::matmul', '', [nested(), addon.fromBuffer(new Float32Array(35), [5, 7], 'float32')])`),
      /^Error: aten::matmul\(float32\[nested\], float32\[5, 7\]\): \S/,
    );
  });

  it('every method on sparse and nested tensors, and every function called without arguments', () => {
    const o = inChild(`
      const thrown = [];
      let calls = 0;
      const attempt = (what, f) => {
        calls++;
        try { f(); } catch (e) { if (!(e instanceof Error) || !e.message) thrown.push(what + ': ' + String(e)); }
      };
      const methods = Object.getOwnPropertyNames(addon.TensorHandle.prototype).filter((m) => m !== 'constructor' && m !== 'dispose');
      for (const [kind, t] of [['sparse', op('aten::to_sparse', '', [x])], ['nested', nested()]]) {
        for (const m of methods) attempt(kind + '.' + m, () => t[m]());
      }
      for (const [name, f] of Object.entries(addon)) if (typeof f === 'function' && name !== 'TensorHandle') attempt(name, () => f());
      console.log(JSON.stringify({ methods: methods.length, calls, thrown }));
      process.exit(0)`);
    expect({ status: o.status, signal: o.signal }).toEqual({ status: 0, signal: null });
    const result = JSON.parse(o.stdout) as { methods: number; calls: number; thrown: string[] };
    expect(result.methods).toBeGreaterThanOrEqual(14);
    expect(result.calls).toBeGreaterThan(2 * result.methods);
    expect(result.thrown).toEqual([]); // everything thrown was a JS Error with a message
  });
});
