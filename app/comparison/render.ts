import { writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec headlessly: SVG from Vega's renderer, PNG (2×) through resvg. */
export async function renderPlot(spec: TopLevelSpec, basePath: string): Promise<{ svg: string; png: string }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  // System fonts: the specs ask for DejaVu Sans (Debian: fonts-dejavu-core).
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 2 }, background: 'white' }).render().asPng();
  await Promise.all([writeFile(`${basePath}.svg`, svg), writeFile(`${basePath}.png`, png)]);
  return { svg: `${basePath}.svg`, png: `${basePath}.png` };
}
