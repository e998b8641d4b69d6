/**
 * The report page of a run: accuracy by epoch (k-NN per k, linear probe), the loss terms,
 * the teacher's entropies and images/s by iteration, and the run's configuration. One self-contained HTML
 * file: plots inline as SVG, no script, nothing from the network. Every value from the run is
 * escaped where it enters the page.
 */
import type { EvalIndex } from '../eval-service';
import { linesSpec, renderSvg } from './charts';

/** One line of the run's metrics.jsonl (what the report plots of it). */
export interface IterationLine {
  it: number;
  loss?: number;
  cls?: number;
  patch?: number;
  pixel?: number;
  channel?: number;
  teacher_entropy?: number;
  teacher_batch_entropy?: number;
  images_per_second?: number;
}

export interface ReportInput {
  run: string;
  store: string;
  index: EvalIndex;
  iterations: IterationLine[];
  config: Record<string, unknown> | null;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (v: unknown): string => String(v).replace(/[&<>"']/g, (c) => ENTITIES[c]);

const pct = (v: number) => v.toFixed(2);

/** Accuracy by epoch; checkpoint.pth and the numbered copy of its epoch count once. */
function byEpoch(index: EvalIndex) {
  const seen = new Map<number, EvalIndex['evals'][number]>();
  for (const e of index.evals) if (e.epoch !== null && !seen.has(e.epoch)) seen.set(e.epoch, e);
  return [...seen.values()].sort((a, b) => a.epoch! - b.epoch!);
}

export async function reportPage(r: ReportInput): Promise<string> {
  const evals = byEpoch(r.index);
  const ks = [...new Set(evals.flatMap((e) => Object.keys(e.knn)))].sort((a, b) => Number(a) - Number(b));
  const accuracy = evals.flatMap((e) => [
    ...Object.entries(e.knn).map(([k, v]) => ({ x: e.epoch!, y: v.top1, series: `k-NN k=${k}` })),
    ...(e.linear ? [{ x: e.epoch!, y: e.linear.top1, series: 'linear' }] : []),
  ]);
  const terms: [keyof IterationLine, string][] = [['loss', 'total'], ['cls', 'iBOT cls'], ['patch', 'iBOT patch'], ['pixel', 'SERE pixel'], ['channel', 'SERE channel']];
  const rows = (pairs: [keyof IterationLine, string][]) =>
    r.iterations.flatMap((l) => pairs.filter(([k]) => typeof l[k] === 'number').map(([k, name]) => ({ x: l.it + 1, y: l[k] as number, series: name })));
  const plots: [string, string][] = [];
  if (accuracy.length) plots.push(['accuracy', await renderSvg(linesSpec('Top-1 accuracy by epoch (%)', accuracy, { x: 'epochs trained', y: 'top-1 %' }))]);
  const losses = rows(terms);
  if (losses.length) plots.push(['losses', await renderSvg(linesSpec('Loss terms by iteration', losses, { x: 'iteration', y: 'loss' }))]);
  const entropy = rows([['teacher_entropy', 'per image'], ['teacher_batch_entropy', 'of the batch mean']]);
  if (entropy.length) plots.push(['entropy', await renderSvg(linesSpec('Teacher entropy (nats)', entropy, { x: 'iteration', y: 'nats' }))]);
  const speed = rows([['images_per_second', 'all ranks']]);
  if (speed.length) plots.push(['speed', await renderSvg(linesSpec('Images/s by iteration', speed, { x: 'iteration', y: 'images/s' }))]);

  const head = `<tr><th>epochs</th><th>checkpoint</th>${ks.map((k) => `<th>k-NN k=${escapeHtml(k)}</th>`).join('')}<th>linear</th></tr>`;
  const body = evals
    .map(
      (e) =>
        `<tr data-epoch="${escapeHtml(e.epoch)}"><td>${escapeHtml(e.epoch)}</td><td>${escapeHtml(e.file)}</td>` +
        ks.map((k) => `<td class="knn" data-k="${escapeHtml(k)}">${e.knn[k] ? pct(e.knn[k].top1) : ''}</td>`).join('') +
        `<td class="linear">${e.linear ? pct(e.linear.top1) : ''}</td></tr>`,
    )
    .join('\n');
  const failed = r.index.failed.map((f) => `<li>${escapeHtml(f.file)} (${escapeHtml(f.kind)}): ${escapeHtml(f.error)}</li>`).join('\n');
  const config = r.config ? Object.entries(r.config).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(Array.isArray(v) ? v.join(' ') : v)}</td></tr>`).join('\n') : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.run)} — SERE run report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:64em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:nth-child(2){text-align:left}figure{margin:1em 0}</style>
</head><body>
<h1>Run ${escapeHtml(r.run)}</h1>
<p>Store: <code>${escapeHtml(r.store)}</code>; ${evals.length} epochs evaluated, ${r.iterations.length} iterations logged.</p>
${plots.map(([id, svg]) => `<figure id="${id}">${svg}</figure>`).join('\n')}
<h2>Accuracy by epoch (top-1 %)</h2>
<table id="evals">${head}
${body}</table>
${failed ? `<h2>Checkpoints that could not be evaluated</h2><ul id="failed">${failed}</ul>` : ''}
<h2>Configuration</h2>
<table id="config">${config}</table>
</body></html>
`;
}
