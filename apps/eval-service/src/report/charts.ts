/**
 * Vega-Lite specifications rendered to SVG in Node (vega's headless renderer): the plots of
 * the report page are drawn by a maintained charting library, inline, with nothing fetched
 * by the browser. vega and vega-lite ship as ES modules with top-level await, which
 * CommonJS cannot require(), hence the dynamic import.
 */
// What is used of them (vega-lite's own types do not resolve under CommonJS module resolution).
interface Vega {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}
interface VegaLite {
  compile(spec: unknown): { spec: unknown };
}

let libs: Promise<[Vega, VegaLite]> | null = null;
// A real import() at run time (the compiled CommonJS would otherwise turn it into require()).
const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

export type ChartSpec = Record<string, unknown>;

export async function renderSvg(spec: ChartSpec): Promise<string> {
  libs ??= Promise.all([importEsm<Vega>('vega'), importEsm<VegaLite>('vega-lite')]);
  const [vega, vl] = await libs;
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A line per series over x: `rows` hold x, y and the series' name. */
export function linesSpec(title: string, rows: { x: number; y: number; series: string }[], axes: { x: string; y: string }): ChartSpec {
  return {
    title,
    width: 560,
    height: 220,
    data: { values: rows },
    mark: { type: 'line', point: rows.length <= 60 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axes.x },
      y: { field: 'y', type: 'quantitative', title: axes.y, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}
