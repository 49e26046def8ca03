/**
 * `linear`: y = x Wᵀ + b with W in the checkpoint's [out, in] layout (f32, f16, bf16, int8 or
 * group-wise int4, read packed: never dequantized in memory),
 * and an optional fused epilogue y = residual + scale * act(x Wᵀ + b).
 *
 * One register-tiled kernel serves both jobs with different tiles: prefill and the vision tower's
 * 1x1 convolutions (many rows: 8 x 4 or 8 x 8 outputs per invocation, each weight load shared by 8
 * rows) and decode (1 to 4 rows: memory-bound, so few rows and narrow column tiles to keep enough
 * invocations). A weight split into row blocks (above the binding limit, e.g. a tied LM head) is
 * dispatched once per block, each writing its output columns; an x, output or residual above the
 * limit (the all-position logits of a prefill, [280, 151936] f32 = 170 MB) is split into row
 * blocks too, and dispatched once per span of rows that lies in one block of each (`rowSpans`).
 * No caller needs to know the limit.
 *
 * On a device whose kernel shape is 'gpu' (any adapter but a CPU one), decode rows run the
 * coalesced GEMV (gemv-coalesced.ts) and more rows the GEMM with workgroup-memory tiles
 * (gemm-workgroup-tiles.ts); the register tiles above are the 'cpu' shape, tuned on lavapipe.
 *
 * The folder: linear.ts (this launcher: checks, tile choice, dispatches), common.ts (config,
 * uniform, bindings and epilogue stores every linear kernel shares), register-tiled.ts (the GEMM /
 * GEMV generator), scalar.ts (unaligned shapes), weight-segments.ts (split weights).
 */
import {
  formatShape,
  Int4Weight,
  Int8Weight,
  rowSpans,
  sameShape,
  ShapeError,
  Tensor,
  type Binding,
  type Device,
  type DispatchAccess,
  type DispatchWork,
} from '@fastvlm/tensor';
import { rmsNorm } from '../rms-norm.js';
import { checkFloatDType, type FloatDType } from '../shared/loaders.js';
import type { Activation } from '../shared/math.js';
import { epilogueOperands, linearParams, outputTileN, type LinearKernelConfig } from './common.js';
import {
  TILED_GEMM_K,
  TILED_GEMM_TILE,
  tiledGemmColumns,
  tiledGemmFits,
  tiledGemmSource,
} from './gemm-workgroup-tiles.js';
import { GEMV_COLUMNS, GEMV_LANES, gemvKStep, gemvLoad, gemvSource } from './gemv-coalesced.js';
import {
  gemmKStep,
  gemmSource,
  LINEAR_WORKGROUP,
  SHARE_LANES,
  weightLoadBytes,
  type GemmTile,
} from './register-tiled.js';
import { scalarSource } from './scalar.js';
import { weightBytes, weightSegments, type WeightSegment } from './weight-segments.js';
import { isQuantized, weightDType, type Weight, type WeightDType } from '../weight.js';

export interface LinearOptions {
  /** [N] */
  bias?: Tensor<'f32'>;
  /** Applied to x Wᵀ + b. Default 'none'. */
  activation?: Activation;
  /** Added after the activation; the output's shape [..., N]. */
  residual?: Tensor<'f32'>;
  /** [N]: per-column scale of the branch before the residual add (a layer scale); needs `residual`. */
  scale?: Tensor<'f32'>;
  /** x is RMS-normed first: y = rmsNorm(x; inputNorm) Wᵀ ... (see `InputNorm`). */
  inputNorm?: InputNorm;
}

/**
 * An RMSNorm applied to x before the product (Qwen2's pre-norms): rmsNorm(x, weight, eps) as
 * `rmsNorm` computes it. On decode rows (the register tiles, or the 'gpu' shape's coalesced GEMV)
 * it runs inside the linear kernel (linear/input-norm.ts: one dispatch fewer, x not written
 * normed and read back); elsewhere `rmsNorm` runs first.
 */
export interface InputNorm {
  /** γ [K]: f32, f16 or bf16. */
  weight: Tensor;
  eps: number;
}

/** Up to this many rows, the decode tiles are used. */
const DECODE_ROWS = 4;
const SCALAR_TILE = { tileM: 4, tileN: 4 };

/** y [..., N] = x [..., K] Wᵀ (+ bias), through the optional fused epilogue. */
export function linear(x: Tensor<'f32'>, weight: Weight, options: LinearOptions = {}): Tensor<'f32'> {
  const { M, N, K, groupSize, outShape } = checkLinear('linear', x, weight, weight.shape[0], options);
  return recordLinear(x, weight, weightSegments(weight), options, { M, N, K, groupSize, outShape }, false);
}

/**
 * SwiGLU in one pass over the weights: y [..., N] = silu(x gateᵀ) * (x upᵀ), with `gateUp` the
 * two [N, K] matrices stacked as one [2N, K] weight ([gate; up], see `concatRows`), so that the
 * kernel reads x once for both and writes only the product (Qwen2's MLP up to down_proj).
 * `gateUp` must fit one buffer binding.
 */
export function linearSwiGlu(
  x: Tensor<'f32'>,
  gateUp: Weight,
  options: Pick<LinearOptions, 'inputNorm'> = {},
): Tensor<'f32'> {
  const rows = gateUp.shape[0] ?? 0;
  if (gateUp.shape.length !== 2 || rows % 2 !== 0)
    throw new ShapeError(`linearSwiGlu: gateUp must be [2N, K] ([gate; up]), got ${formatShape(gateUp.shape)}`);
  const dims = checkLinear('linearSwiGlu', x, gateUp, rows / 2, options);
  const segments = weightSegments(gateUp);
  if (segments.length !== 1)
    throw new ShapeError(
      `linearSwiGlu: gateUp ${formatShape(gateUp.shape)} is split over several buffers; it must fit one binding`,
    );
  // one dispatch over the N output columns; the kernel finds each column's up row N rows further
  const outputs = { range: { nStart: 0, nEnd: dims.N, wRow0: 0, sRow0: 0 }, bindings: segments[0].bindings };
  return recordLinear(x, gateUp, [outputs], options, dims, true);
}

interface LinearDims {
  M: number;
  N: number;
  K: number;
  groupSize: number;
  outShape: number[];
}

/** Records the dispatches of `weight`'s segments (output column ranges, each bound to one buffer). */
function recordLinear(
  x: Tensor<'f32'>,
  weight: Weight,
  segments: readonly WeightSegment[],
  options: LinearOptions,
  dims: LinearDims,
  swiglu: boolean,
): Tensor<'f32'> {
  const { M, N, K, groupSize, outShape } = dims;
  const device = x.device;
  const config: LinearKernelConfig = {
    weight: weightDType(weight),
    perGroupScales: (weight instanceof Int8Weight && groupSize !== K) || weight instanceof Int4Weight,
    bias: options.bias !== undefined,
    activation: options.activation ?? 'none',
    residual: options.residual !== undefined,
    layerScale: options.scale !== undefined,
    swiglu,
    inputNorm: options.inputNorm && (options.inputNorm.weight.dtype as FloatDType),
  };
  const plan = planLinear(device, config, M, N, K, groupSize);
  if (options.inputNorm && !plan.fusesNorm) {
    // this kernel does not take the norm: normed x first, freed once the product is recorded
    const normed = rmsNorm(x, options.inputNorm.weight, options.inputNorm.eps);
    const y = recordLinear(normed, weight, segments, { ...options, inputNorm: undefined }, dims, swiglu);
    normed.dispose();
    return y;
  }
  const y = Tensor.empty(device, outShape, 'f32');
  if (M === 0 || N === 0) return y;
  const kernel = device.kernel(plan.source, plan.label);
  const { tileM } = plan;
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const rowsPerDispatch = maxGroups * tileM;
  const weightRows = swiglu ? 2 : 1; // weight rows read per output column
  const detail = `[${M}x${K}]->${N} ${config.weight}`;
  const work = (rows: number, columns: number): DispatchWork => ({
    flops: 2 * rows * weightRows * columns * K,
    bytes:
      weightBytes(config.weight, weightRows * columns, K, groupSize) +
      4 * (rows * K + rows * columns) +
      (plan.fusesNorm ? normBytes(config) * K : 0),
    detail,
    access: plan.access,
  });
  // x, y and the residual may each be split into row blocks (above the binding limit): one span
  // of rows per combination of blocks, each bound with the row its block starts at
  const spans = rowSpans(M, options.residual ? [x, y, options.residual] : [x, y]);
  for (const { rowStart, rowEnd, refs, firstRows } of spans) {
    const [xRef, yRef, residualRef] = refs;
    const rowBlocks = { xRow0: firstRows[0], yRow0: firstRows[1], rRow0: firstRows[2] ?? 0 };
    const operands = { bias: options.bias, residual: residualRef, layerScale: options.scale, y: yRef };
    const epilogue = epilogueOperands(config).map((name) => operands[name] as Binding);
    if (config.inputNorm) epilogue.push(options.inputNorm!.weight); // bound after y (normBinding)
    const normEps = options.inputNorm?.eps;
    for (const segment of segments) {
      const columns = segment.range.nEnd - segment.range.nStart;
      const bindings = [xRef, ...segment.bindings, ...epilogue];
      const rows = rowEnd - rowStart;
      if (plan.numbered) {
        // tiles numbered column block first over the whole output, on a 2-D grid of workgroups
        const { blockColumns, tilesPerWorkgroup } = plan.numbered;
        const nBlocks = Math.ceil(columns / blockColumns);
        const workgroups = Math.ceil((nBlocks * Math.ceil(rows / tileM)) / tilesPerWorkgroup);
        const gridX = Math.min(workgroups, maxGroups);
        const grid: [number, number] = [gridX, Math.ceil(workgroups / gridX)];
        const p = {
          ...{ mEnd: rowEnd, N, K, groupSize, mStart: rowStart, ...segment.range },
          ...{ nBlocks, gridX, ...rowBlocks, normEps },
        };
        device.dispatch(kernel, [linearParams(p), ...bindings], grid, work(rows, columns));
        continue;
      }
      const columnGroups = Math.ceil(columns / plan.tileN / LINEAR_WORKGROUP);
      for (let mStart = rowStart; mStart < rowEnd; mStart += rowsPerDispatch) {
        const mEnd = Math.min(rowEnd, mStart + rowsPerDispatch);
        const params = linearParams({ mEnd, N, K, groupSize, mStart, ...segment.range, ...rowBlocks, normEps });
        const grid: [number, number] = [columnGroups, Math.ceil((mEnd - mStart) / tileM)];
        device.dispatch(kernel, [params, ...bindings], grid, work(mEnd - mStart, columns));
      }
    }
  }
  return y;
}

/** The kernel a linear runs and how it is launched. */
interface LinearPlan {
  source: string;
  label: string;
  /** x rows per invocation (or per numbered tile). */
  tileM: number;
  /** Output columns per invocation (2-D grid launches). */
  tileN: number;
  /** Launched as numbered tiles over the output (see `entry` / gemv-coalesced.ts) rather than a [columns, rows] grid. */
  numbered?: { blockColumns: number; tilesPerWorkgroup: number };
  /** How each invocation reads memory (for dispatch audits). */
  access: DispatchAccess;
  /** Whether the kernel computes `config.inputNorm` itself (else x must come normed). */
  fusesNorm?: boolean;
}

/**
 * The kernel for the device's kernel shape, this weight dtype and row count: on 'gpu', the
 * coalesced GEMV for decode rows (K a multiple of 4; int4: K and its group a multiple of 16) and
 * the workgroup-memory tiled GEMM for more rows (K a multiple of 4; not int4, which keeps its
 * register tiles); otherwise the register tiles tuned on lavapipe, or the scalar kernel when K (or
 * an int8 group) is not a multiple of any tile's k-step.
 */
function planLinear(
  device: Device,
  config: LinearKernelConfig,
  M: number,
  N: number,
  K: number,
  groupSize: number,
): LinearPlan {
  const swiglu = config.swiglu ? 'swiglu-' : '';
  const dtype = config.weight;
  const plain = { ...config, inputNorm: undefined }; // for the kernels that take no norm
  const weightRows = config.swiglu ? 2 : 1;
  const gemvStep = gemvKStep(K, groupSize);
  if (device.kernelShape === 'gpu' && M <= DECODE_ROWS && gemvStep && (dtype !== 'int4' || gemvStep === 16)) {
    const tileM = M === 1 ? 1 : DECODE_ROWS;
    const load = gemvLoad(dtype, gemvStep);
    const loads = Math.ceil(K / load.values / GEMV_LANES); // per lane and weight row
    const norm = config.inputNorm !== undefined; // fused: each lane norms its share of K
    const label = `linear-gemv-${swiglu}${dtype}-${tileM}x${gemvStep}`;
    return {
      source: gemvSource(norm ? config : plain, { tileM, kStep: gemvStep }),
      label: norm ? `${label}-normed-${config.inputNorm}` : label,
      fusesNorm: norm,
      tileM,
      tileN: 1,
      numbered: { blockColumns: GEMV_COLUMNS, tilesPerWorkgroup: 1 },
      access: {
        bytesPerInvocation:
          loads * (load.bytes * weightRows + 4 * load.values * tileM + (norm ? normBytes(config) * load.values : 0)),
        coalesced: true,
        pattern: `${GEMV_LANES} lanes split a column's K: lane l reads the row's ${load.bytes}-byte loads l, l+${GEMV_LANES}, ...`,
      },
    };
  }
  if (device.kernelShape === 'gpu' && tiledGemmFits(config, K, groupSize)) {
    const quadBytes = weightLoadBytes(dtype, 4);
    return {
      source: tiledGemmSource(plain),
      label: `linear-tiled-${swiglu}${dtype}`,
      tileM: TILED_GEMM_TILE,
      tileN: 4,
      numbered: { blockColumns: tiledGemmColumns(config), tilesPerWorkgroup: 1 },
      access: {
        bytesPerInvocation: Math.ceil(K / TILED_GEMM_K) * (16 + quadBytes),
        coalesced: true,
        pattern: `64x${TILED_GEMM_K} tiles of x and W staged in workgroup memory: runs of 4 invocations read a row's ${TILED_GEMM_K} consecutive K values (x 64 B, W ${4 * quadBytes} B)`,
      },
    };
  }
  const tile = chooseTile(device, dtype, M, N, K, groupSize);
  const tileM = (tile ?? SCALAR_TILE).tileM;
  const tileN = outputTileN(config, (tile ?? SCALAR_TILE).tileN);
  const rowBytes = Math.ceil(K * { f32: 4, f16: 2, bf16: 2, int8: 1, int4: 0.5 }[dtype]); // a weight row's values
  const xPerInvocation = (4 * tileM * K) / (tile?.xShare ? SHARE_LANES : 1); // subgroups share x loads
  // the norm is fused on decode rows, where the saved dispatch counts; a prefill's GEMM would pay
  // γ loads and squares in every invocation of its tiles for one cheap dispatch
  const fusesNorm = tile !== undefined && config.inputNorm !== undefined && M <= DECODE_ROWS;
  const gammaPerInvocation = fusesNorm ? (normBytes(config) * K) / (tile.xShare ? SHARE_LANES : 1) : 0; // shared as x is
  const access: DispatchAccess = {
    bytesPerInvocation: rowBytes * weightRows * tileN + xPerInvocation + gammaPerInvocation,
    coalesced: false,
    pattern: `each invocation reads ${weightRows * tileN} whole weight rows over K: neighbours ${weightRows * tileN} rows (${weightRows * tileN * rowBytes} bytes) apart`,
  };
  const label = `linear-${swiglu}${dtype}${tile ? `-${tile.tileM}x${tile.tileN}` : '-scalar'}`;
  if (!tile) return { source: scalarSource(plain), label, tileM, tileN, access };
  const subgroupTile = tile.subgroupTile;
  return {
    source: gemmSource(fusesNorm ? config : plain, tile),
    label: fusesNorm ? `${label}-normed-${config.inputNorm}` : label,
    fusesNorm,
    tileM,
    tileN,
    numbered: subgroupTile
      ? {
          blockColumns: subgroupTile * tileN,
          tilesPerWorkgroup: (tile.workgroup ?? LINEAR_WORKGROUP) / subgroupTile,
        }
      : undefined,
    access,
  };
}

/** Bytes per value of a fused input norm's γ. */
function normBytes(config: LinearKernelConfig): number {
  return config.inputNorm === 'f32' ? 4 : 2;
}

/**
 * The tile for this weight dtype and row count (tuned on lavapipe), or undefined for the scalar
 * kernel when K (or an int8 / int4 group) is not a multiple of any tile's k-step.
 */
function chooseTile(
  device: Device,
  dtype: WeightDType,
  M: number,
  N: number,
  K: number,
  groupSize: number,
): GemmTile | undefined {
  const decode = M <= DECODE_ROWS;
  const decodeRows = M === 1 ? 1 : DECODE_ROWS;
  const candidates: GemmTile[] = [];
  const info = device.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const subgroupMin = info.subgroupMinSize ?? 0;
  if (device.has('subgroups') && subgroupMin >= SHARE_LANES) {
    // a fixed subgroup size that divides the workgroup: each subgroup can own a tile
    const subgroupTile = subgroupMin === info.subgroupMaxSize && LINEAR_WORKGROUP % subgroupMin === 0 ? subgroupMin : 0;
    // a narrow decode GEMV (k_proj, v_proj: 128 columns) in smaller workgroups, so both cores get some
    const workgroup = subgroupTile ? narrowWorkgroup(N / 2, subgroupTile) : undefined;
    const integer = dtype === 'int8' || dtype === 'int4';
    if (decode)
      candidates.push(
        { tileM: decodeRows, tileN: 2, xShare: integer ? 2 : 1, subgroupTile, workgroup },
        { tileM: decodeRows, tileN: 2, xShare: 1, subgroupTile, workgroup },
      );
    else candidates.push({ tileM: 8, tileN: integer ? 8 : 4, xShare: 1, subgroupTile });
  }
  candidates.push({ tileM: decode ? decodeRows : 4, tileN: 4, xShare: 0 });
  return candidates.find((t) => K % gemmKStep(t, dtype) === 0 && groupSize % gemmKStep(t, dtype) === 0);
}

/** The largest workgroup (a power of two from one subgroup up to LINEAR_WORKGROUP) that still makes 4 workgroups of `lanes`. */
function narrowWorkgroup(lanes: number, subgroup: number): number {
  let size = LINEAR_WORKGROUP;
  while (size > subgroup && lanes / size < 4) size /= 2;
  return size;
}

/** Checks x, the weight and the epilogue operands for an output of N columns. */
function checkLinear(op: string, x: Tensor<'f32'>, weight: Weight, N: number, options: LinearOptions): LinearDims {
  const fail = (why: string): never => {
    throw new ShapeError(`${op}: ${why}`);
  };
  if (x.dtype !== 'f32') fail(`x must be f32, got ${x.dtype}`);
  if (x.rank < 1) fail('x must have at least one dimension');
  if (!isQuantized(weight) && !['f32', 'f16', 'bf16'].includes(weight.dtype))
    fail(`weight must be f32, f16, bf16, an Int8Weight or an Int4Weight, got ${weight.dtype}`);
  if (weight.shape.length !== 2) fail(`weight must be [out, in], got ${formatShape(weight.shape)}`);
  const K = weight.shape[1];
  if (x.shape[x.rank - 1] !== K)
    fail(`x ${formatShape(x.shape)} does not end in the weight's ${K} inputs (weight ${formatShape(weight.shape)})`);
  const outShape = [...x.shape.slice(0, -1), N];
  const M = x.size / Math.max(K, 1);
  let groupSize = K;
  if (isQuantized(weight)) {
    const groups = weight.scales.shape[1];
    if (weight.scales.shape[0] !== weight.shape[0] || K % groups !== 0)
      fail(
        `${weightDType(weight)} scales ${formatShape(weight.scales.shape)} do not fit weight ${formatShape(weight.shape)}`,
      );
    groupSize = K / groups;
  }
  const { bias, residual, scale } = options;
  if (bias && (bias.dtype !== 'f32' || bias.rank !== 1 || bias.size !== N))
    fail(`bias must be f32 [${N}], got ${bias.dtype} ${formatShape(bias.shape)}`);
  if (residual && (residual.dtype !== 'f32' || !sameShape(residual.shape, outShape))) {
    fail(`residual must be f32 ${formatShape(outShape)}, got ${residual.dtype} ${formatShape(residual.shape)}`);
  }
  if (scale && (scale.dtype !== 'f32' || scale.rank !== 1 || scale.size !== N))
    fail(`scale must be f32 [${N}], got ${scale.dtype} ${formatShape(scale.shape)}`);
  if (scale && !residual) fail('scale is the layer scale of a residual branch: give residual too');
  const norm = options.inputNorm;
  if (norm) {
    checkFloatDType(op, 'inputNorm.weight', norm.weight.dtype);
    if (norm.weight.rank !== 1 || norm.weight.size !== K)
      fail(`inputNorm.weight must be [${K}] (the weight's inputs), got ${formatShape(norm.weight.shape)}`);
    if (!(Number.isFinite(norm.eps) && norm.eps >= 0))
      fail(`inputNorm.eps must be a finite number >= 0, got ${norm.eps}`);
  }
  return { M, N, K, groupSize, outShape };
}
