/** The demo's HTML page: loss curves (inline SVG) and pretrained vs random accuracies. */
import { html, type SafeHtml } from './html';

export interface DemoSummary {
  knn: { pretrained: { top1: number; top5: number }; random: { top1: number; top5: number }; k: number };
  linear: { pretrained: { top1: number; top5: number }; random: { top1: number; top5: number } } | null;
  seconds: number;
  train: { iterations: number; images_per_s: number; epochs: number };
}

function polyline(values: number[], w: number, h: number, lo: number, hi: number, colour: string): SafeHtml | '' {
  if (values.length < 2) return '';
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - ((v - lo) / (hi - lo || 1)) * h).toFixed(1)}`);
  return html`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
}

/** Every value (curve names, the configuration's paths and flags) is escaped by `html`. */
export function demoHtml(summary: DemoSummary, curves: Record<string, number[]>, config: Record<string, unknown>): string {
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
  const charts = Object.entries(curves).map(([name, vals], i) => {
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    return html`<figure><figcaption>${name} (${lo.toFixed(3)} … ${hi.toFixed(3)})</figcaption><svg width="360" height="120" viewBox="0 0 360 120" style="background:#fafafa;border:1px solid #ddd">${polyline(vals, 360, 120, lo, hi, colours[i % colours.length])}</svg></figure>\n`;
  });
  const row = (name: string, r: { top1: number; top5: number }) => html`<tr><td>${name}</td><td>${r.top1.toFixed(1)} %</td><td>${r.top5.toFixed(1)} %</td></tr>`;
  const linear = summary.linear
    ? html`<h2>Linear probe on frozen features</h2><table><tr><th>backbone</th><th>top-1</th><th>top-5</th></tr>${row('pretrained teacher', summary.linear.pretrained)}${row('random initialisation', summary.linear.random)}</table>`
    : '';
  return html`<!doctype html>
<html><head><meta charset="utf-8"><title>SERE.ts demo</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child{text-align:left}figure{display:inline-block;margin:0 1em 1em 0}</style></head>
<body>
<h1>SERE.ts demo: iBOT + SERE pretraining of ${String(config.arch)} on the embedded dataset</h1>
<p>${summary.train.iterations} iterations (${summary.train.epochs} epochs) at ${summary.train.images_per_s.toFixed(1)} images/s; whole demo ${summary.seconds.toFixed(0)} s.</p>
<h2>k-NN (k = ${summary.knn.k}, T = 0.07) on the teacher's CLS features</h2>
<table><tr><th>backbone</th><th>top-1</th><th>top-5</th></tr>${row('pretrained teacher', summary.knn.pretrained)}${row('random initialisation', summary.knn.random)}</table>
${linear}
<h2>Training losses per iteration</h2>
${charts}
<h2>Configuration</h2><pre>${JSON.stringify(config, null, 2)}</pre>
</body></html>
`.markup;
}
