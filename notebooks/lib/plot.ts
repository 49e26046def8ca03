/**
 * Charts for the notebooks: Observable Plot drawn headless (linkedom stands in for the browser's
 * document) and rasterised to PNG by resvg, so a chart is an ordinary image output of the cell and
 * reads the same in Jupyter, VS Code and on GitHub.
 */
import * as Plot from '@observablehq/plot';
import { Resvg } from '@resvg/resvg-js';
import { parseHTML } from 'linkedom';

export { Plot };

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** The options of `Plot.plot`, without `document` (supplied here). */
export type PlotOptions = Omit<Plot.PlotOptions, 'document'>;

function drawSvg(options: Plot.PlotOptions): { svg: SVGSVGElement; chart: ReturnType<typeof Plot.plot> } {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const chart = Plot.plot({
    style: { fontFamily: FONT, fontSize: '12px', background: 'white' },
    ...options,
    document: document as unknown as Document,
  });
  const svg = (chart.tagName.toLowerCase() === 'svg' ? chart : chart.querySelector('svg')) as SVGSVGElement | null;
  if (!svg) throw new Error('Plot drew no <svg> (a figure with a title or caption is not supported here)');
  return { svg, chart };
}

/** A row of colour swatches with their names (Plot's own legend for categories is HTML, which resvg cannot draw). */
function swatches(domain: readonly unknown[], range: readonly unknown[], width: number): SVGSVGElement {
  const items: { x: number; row: number; name: string; color: string }[] = [];
  let x = 0;
  let row = 0;
  domain.forEach((name, i) => {
    const itemWidth = 24 + 7 * String(name).length;
    if (x + itemWidth > width - 10 && x > 0) {
      x = 0;
      row++;
    }
    items.push({ x, row, name: String(name), color: String(range[i % range.length]) });
    x += itemWidth + 12;
  });
  return drawSvg({
    width,
    height: 22 * (row + 1) + 8,
    margin: 0,
    marginLeft: 10,
    x: { axis: null, domain: [0, width - 10] },
    y: { axis: null, domain: [-0.5, row + 0.5], reverse: true },
    marks: [
      Plot.dot(items, { x: 'x', y: 'row', fill: 'color', symbol: 'square', r: 6, dx: 6 }),
      Plot.text(items, { x: 'x', y: 'row', text: 'name', dx: 16, textAnchor: 'start' }),
    ],
  }).svg;
}

/**
 * Draws `options` with Observable Plot and returns the SVG text. `color: { legend: true }` puts a
 * row of swatches under the chart.
 */
export function plotSvg(options: PlotOptions): string {
  const legend = options.color?.legend === true;
  const { svg, chart } = drawSvg(legend ? { ...options, color: { ...options.color, legend: false } } : options);
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  if (!legend) return svg.outerHTML;
  const scale = chart.scale('color');
  const width = Number(svg.getAttribute('width'));
  const height = Number(svg.getAttribute('height'));
  const key = swatches(scale?.domain ?? [], (scale?.range as unknown[]) ?? [], width);
  const keyHeight = Number(key.getAttribute('height'));
  svg.setAttribute('y', '0');
  key.setAttribute('y', String(height));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + keyHeight}" viewBox="0 0 ${width} ${height + keyHeight}">${svg.outerHTML}${key.outerHTML}</svg>`;
}

/** SVG text to PNG bytes, at `zoom` device pixels per CSS pixel. */
export function svgToPng(svg: string, zoom = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** A chart as a PNG image output of the cell (return it from the cell, or `await Deno.jupyter.display(...)`). */
export function plot(options: PlotOptions): Deno.jupyter.Displayable {
  return Deno.jupyter.image(svgToPng(plotSvg(options)));
}
