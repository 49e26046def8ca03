/**
 * The scalar `linear` kernel, for shapes whose rows are not aligned for the register-tiled
 * kernel's vector loads (K, or an int8 group, not a multiple of 4; for int4, of 8): each invocation
 * computes a 4 x 4 tile one k at a time, reading packed weights element by element through the
 * shared loaders. An int4 row holds K rounded up to even nibbles (rows start on a byte).
 */
import { loaderFn, nibbleLoaderFn, wgslStorageType } from '../shared/loaders.js';
import { memoSource } from '../shared/memo-source.js';
import {
  epilogueBindings,
  LINEAR_PARAMS,
  outputTileN,
  scaleAt,
  range,
  tileColumn,
  tileStores,
  weightBindings,
  type LinearKernelConfig,
} from './common.js';
import { entry, type GemmTile } from './register-tiled.js';

/** Scalar kernel for any K (rows of packed weights need not start on a word): tile 4 x 4. */
function scalarSourceUncached(config: LinearKernelConfig): string {
  const tile: GemmTile = { tileM: 4, tileN: 4, xShare: 0 };
  const int4 = config.weight === 'int4';
  const dtype = config.weight === 'int8' ? 'i8' : config.weight === 'int4' ? 'u32' : config.weight;
  const scaled = (config.weight === 'int8' || int4) && config.perGroupScales;
  const rowLength = int4 ? '((p.K + 1u) & ~1u)' : 'p.K';
  const body: string[] = [];
  for (const j of range(tile.tileN)) {
    const weight = `loadW((nc${j} - p.wRow0) * ${rowLength} + k)`;
    const scale = scaleAt(config, `(nc${j} - p.sRow0) * (p.K / p.groupSize) + k / p.groupSize`);
    body.push(`    let d${j} = ${scaled ? `${scale} * ` : ''}${weight};`);
  }
  for (const i of range(tile.tileM)) {
    body.push(`    let x${i} = x[(min(m0 + ${i}u, p.mEnd - 1u) - p.xRow0) * p.K + k];`);
    for (const j of range(tile.tileN)) body.push(`    a${i}_${j} += x${i} * d${j};`);
  }
  const setup: string[] = [];
  for (const j of range(tile.tileN)) {
    const { column, rowOffset } = tileColumn(config, tile.tileN, j);
    setup.push(`  let nc${j} = min(n0 + ${column}u, p.nEnd - 1u)${rowOffset};`);
  }
  for (const i of range(tile.tileM)) for (const j of range(tile.tileN)) setup.push(`  var a${i}_${j} = 0.0;`);
  return /* wgsl */ `
${LINEAR_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
${weightBindings(config, wgslStorageType(dtype))}
${int4 ? nibbleLoaderFn('loadW', 'w') : loaderFn('loadW', 'w', dtype)}
${epilogueBindings(config)}
const TILE_M = ${tile.tileM}u;
const TILE_N = ${outputTileN(config, tile.tileN)}u;
${entry(tile)}
${setup.join('\n')}
  for (var k = 0u; k < p.K; k++) {
${body.join('\n')}
  }
${tileStores(config, tile.tileM, tile.tileN)}
}`;
}

export const scalarSource = memoSource(scalarSourceUncached);
