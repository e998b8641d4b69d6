/**
 * The broker client belongs to @sere/stream. The dataset library is what evaluation and
 * `sere data` need, and evaluation reads image folders and checkpoints: loading @sere/dataset
 * or @sere/eval in a fresh process must not load kafkajs (evaluation once loaded it through
 * the data library for one helper). A fresh process because jest's module registry is not
 * Node's, and another test of the same worker may have loaded kafkajs already. @sere/stream,
 * which does load it, shows the check sees it.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** The first kafkajs files (at most 3) that requiring `specifier` leaves in Node's module cache. */
function kafkajsLoadedBy(specifier: string): string[] {
  const script = `require(${JSON.stringify(specifier)});
const loaded = Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/]kafkajs[\\\\/]/.test(f));
process.stdout.write(JSON.stringify(loaded.slice(0, 3)));`;
  const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`requiring ${specifier} failed (exit ${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

it.each(['@sere/dataset', '@sere/eval'])('requiring %s does not load kafkajs', (lib) => {
  expect(kafkajsLoadedBy(lib)).toEqual([]);
});

it('requiring @sere/stream does (the check sees kafkajs when it is loaded)', () => {
  expect(kafkajsLoadedBy('@sere/stream').length).toBeGreaterThan(0);
});
