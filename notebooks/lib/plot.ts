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

/** Draws `options` with Observable Plot and returns the SVG text. */
export function plotSvg(options: PlotOptions): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const chart = Plot.plot({
    style: { fontFamily: FONT, fontSize: '12px', background: 'white' },
    ...options,
    document: document as unknown as Document,
  });
  const svg = chart.tagName.toLowerCase() === 'svg' ? chart : chart.querySelector('svg');
  if (!svg) throw new Error('Plot drew no <svg> (a figure with a legend or title is not supported here)');
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return svg.outerHTML;
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
