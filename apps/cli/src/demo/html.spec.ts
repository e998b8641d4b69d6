import { escapeHtml, html } from './html';
import { demoHtml, type DemoSummary } from './report-html';

const XSS = '<script>alert(1)</script>';

describe('html', () => {
  it('escapes the five characters that can end text or a quoted attribute', () => {
    expect(escapeHtml(`${XSS} & "a" 'b'`)).toBe('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;a&quot; &#39;b&#39;');
  });

  it('escapes every interpolated value, in text and in attributes, and nests its own fragments as markup', () => {
    const title = 'x" onmouseover="alert(1)';
    const inner = html`<b>${XSS}</b>`;
    expect(html`<p title="${title}">${XSS}${inner}${['<i>', inner]}</p>`.markup).toBe(
      '<p title="x&quot; onmouseover=&quot;alert(1)">&lt;script&gt;alert(1)&lt;/script&gt;' +
        '<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>&lt;i&gt;<b>&lt;script&gt;alert(1)&lt;/script&gt;</b></p>',
    );
  });
});

describe('demoHtml', () => {
  const r = { top1: 40, top5: 90 };
  const summary: DemoSummary = { knn: { pretrained: r, random: r, k: 20 }, linear: null, seconds: 1, train: { iterations: 3, images_per_s: 2, epochs: 1 } };

  it('writes paths, flag values and curve names as text, never as markup', () => {
    const page = demoHtml(summary, { [`loss ${XSS}`]: [1, 0.5] }, { arch: `vit_tiny${XSS}`, data_path: `/data/"${XSS}`, output_dir: 'runs/a&b' });
    expect(page).not.toContain('<script');
    expect(page).toContain('vit_tiny&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('loss &lt;script&gt;');
    expect(page).toContain('&quot;data_path&quot;: &quot;/data/\\&quot;&lt;script&gt;');
    expect(page).toContain('runs/a&amp;b');
    // The page's own markup is intact.
    expect(page).toMatch(/<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="0\.0,0\.0 360\.0,120\.0"\/>/);
    expect(page).toContain('<tr><td>pretrained teacher</td><td>40.0 %</td><td>90.0 %</td></tr>');
  });
});
