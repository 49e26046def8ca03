/**
 * Sampling the next token, with the semantics of Hugging Face's `generate` warpers in their order:
 * temperature (scores / T in f32), top-k (keep scores >= the k-th largest, ties included), top-p
 * (sort ascending, drop tokens whose cumulative probability is <= 1 - p, always keep the top one),
 * then a draw from the softmax of what is left. Temperature 0 is greedy (argmax on the GPU).
 * Logits holding a NaN or an infinity are a NonFiniteLogitsError, found in the readback either way.
 *
 * Speed: the GPU finds an upper set of the logits that holds what the filters need (see
 * sampling-candidates.ts) and only that set comes back (at most `maxCandidates`, 32 KB by default,
 * instead of 600 KB); the CPU sorts it (radix sort) and finishes in f64.
 * When the set cannot decide the draw (a flat distribution, a top-k above the capacity, a draw in
 * the unlisted tail), all V logits are read back and the same computation runs on all of them.
 */
import { FastVlmError, Tensor } from '@fastvlm/tensor';
import { argmax } from './argmax.js';
import { SeededRandom, type RandomSource } from './rng.js';
import { recordCandidates } from './candidates.js';

/** A sampling option is out of its range, or the logits are not finite. */
export class SamplingError extends FastVlmError {
  constructor(message: string) {
    super('SAMPLING', message);
  }
}

/** The logits hold a NaN or an infinity (found in the readback every step makes anyway). */
export class NonFiniteLogitsError extends SamplingError {
  constructor(detail: string) {
    super(`the logits are not finite (${detail})`);
  }
}

/**
 * The smallest and largest temperatures besides 0: logits / T stays finite in f32 for logits up to
 * 1e8 in size (f32's largest is 3.4e38), and 1 / T stays a normal f32. A temperature of 1e-45
 * would overflow to infinity and turn every probability into NaN.
 */
export const MIN_TEMPERATURE = 1e-30;
export const MAX_TEMPERATURE = 1e30;

export interface SamplingOptions {
  /** 0 = greedy; otherwise > 0. */
  temperature: number;
  /** Keep the k most likely tokens (ties with the k-th included); 0 or absent = off. */
  topK?: number;
  /** Keep the smallest most-likely set with probability >= topP, in (0, 1]; 1 or absent = off. */
  topP?: number;
  /** Seeds a fresh generator for this call (same seed, same token). Ignored when `rng` is given. */
  seed?: number;
  /** The generator to draw from; pass one across a generation for a reproducible sequence. */
  rng?: RandomSource;
  /** Most logits read back before falling back to reading all of them. Default 4096. */
  maxCandidates?: number;
}

/** The distribution the draw is made from: kept tokens, most likely first. */
export interface TokenDistribution {
  ids: Int32Array;
  probs: Float64Array;
  /** Whether only the GPU's candidate set (`candidates`) or all logits (`full`) were read back. */
  source: 'candidates' | 'full';
}

const DEFAULT_CANDIDATES = 4096;
/** Probability the candidate set should hold when no filter bounds it: the draw needs all logits about once in 10^4. */
const UNFILTERED_MASS = 0.9999;

export function checkSamplingOptions(options: SamplingOptions): void {
  const { temperature, topK = 0, topP = 1, seed, maxCandidates = DEFAULT_CANDIDATES } = options;
  if (!(temperature === 0 || (temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE)))
    throw new SamplingError(
      `temperature must be 0 (greedy) or in [${MIN_TEMPERATURE}, ${MAX_TEMPERATURE}] (beyond, logits / temperature overflows f32), got ${temperature}`,
    );
  if (!(Number.isInteger(topK) && topK >= 0))
    throw new SamplingError(`topK must be an integer >= 0 (0 = off), got ${topK}`);
  if (!(Number.isFinite(topP) && topP > 0 && topP <= 1)) throw new SamplingError(`topP must be in (0, 1], got ${topP}`);
  if (seed !== undefined && !Number.isFinite(seed))
    throw new SamplingError(`seed must be a finite number, got ${seed}`);
  if (!(Number.isInteger(maxCandidates) && maxCandidates >= 1 && maxCandidates <= 1 << 20)) {
    throw new SamplingError(`maxCandidates must be an integer in [1, 2^20], got ${maxCandidates}`);
  }
}

/** Tokens in the sampler's order (scaled logit descending, then id ascending) and their weights. */
interface Ranked {
  ids: Int32Array;
  /** exp(s - s_max) of each listed token, s = fround(logit / fround(T)). */
  weights: Float64Array;
  scaled: Float32Array;
  /** Sum of the weights of all V tokens, listed or not. */
  total: number;
  /** Whether all V tokens are listed. */
  complete: boolean;
  /** The largest scaled logit an unlisted token can have (the list holds every logit above some value). */
  unlistedBound: number;
}

function rank(
  ids: Int32Array,
  logits: Float32Array,
  temperature: number,
  total: number | undefined,
  vocab: number,
): Ranked {
  // Indexed loops throughout: 151936 tokens on the fallback path.
  const n = ids.length;
  const t = Math.fround(temperature);
  const scaled = new Float32Array(n);
  let smallestLogit = Infinity;
  for (let i = 0; i < n; i++) {
    scaled[i] = logits[i] / t + 0; // + 0: -0 becomes +0, so equal values sort together
    smallestLogit = Math.min(smallestLogit, logits[i]);
  }
  const complete = n === vocab;
  // Ties in id order: the full list comes in id order, candidates (GPU append order) are put in it first.
  const identity = new Uint32Array(n);
  for (let i = 0; i < n; i++) identity[i] = i;
  const byId = complete ? identity : radixOrder(new Uint32Array(ids.buffer, ids.byteOffset, n), identity);
  const order = radixOrder(descendingKeys(scaled), byId);
  const sortedIds = new Int32Array(n);
  const sortedScaled = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    sortedIds[k] = ids[order[k]];
    sortedScaled[k] = scaled[order[k]];
  }
  const weights = new Float64Array(n);
  for (let k = 0; k < n; k++) weights[k] = Math.exp(sortedScaled[k] - sortedScaled[0]);
  return {
    ids: sortedIds,
    weights,
    scaled: sortedScaled,
    total: complete ? sum(weights, n) : (total ?? NaN),
    complete,
    unlistedBound: complete ? -Infinity : Math.fround(previousF32(smallestLogit) / t),
  };
}

/** u32 keys whose ascending order is the descending order of the finite f32 `values`. */
function descendingKeys(values: Float32Array): Uint32Array {
  const keys = new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  for (let i = 0; i < keys.length; i++) {
    const bits = keys[i];
    keys[i] = bits & 0x80000000 ? bits : ~bits & 0x7fffffff;
  }
  return keys;
}

/** `order` stably sorted by `keys[order[i]]` ascending: an LSD radix sort in two 16-bit passes. */
function radixOrder(keys: Uint32Array, order: Uint32Array): Uint32Array {
  const n = order.length;
  const starts = new Uint32Array(65537);
  let from: Uint32Array = order;
  let to: Uint32Array = new Uint32Array(n);
  for (let shift = 0; shift < 32; shift += 16) {
    starts.fill(0);
    for (let k = 0; k < n; k++) starts[((keys[from[k]] >>> shift) & 0xffff) + 1]++;
    for (let b = 1; b <= 65536; b++) starts[b] += starts[b - 1];
    for (let k = 0; k < n; k++) to[starts[(keys[from[k]] >>> shift) & 0xffff]++] = from[k];
    [from, to] = [to, from];
  }
  return from;
}

/** The largest f32 below a finite f32 `x`. */
function previousF32(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer);
  if (x === 0) return -(2 ** -149);
  bits[0] += x > 0 ? -1 : 1;
  return new Float32Array(bits.buffer)[0];
}

/** A prefix of the ranked tokens with its normaliser; `complete` when the prefix is the whole kept set. */
interface Kept {
  count: number;
  total: number;
  complete: boolean;
}

/** Applies top-k then top-p; undefined when the listed tokens cannot decide the kept set. */
function filter(r: Ranked, vocab: number, topK: number, topP: number): Kept | undefined {
  if (r.ids.length === 0) return undefined;
  let kept: Kept = { count: r.ids.length, total: r.total, complete: r.complete };
  if (topK > 0 && topK < vocab) {
    if (topK > r.ids.length) return undefined;
    const kth = r.scaled[topK - 1];
    let count = topK;
    while (count < r.ids.length && r.scaled[count] >= kth) count++;
    if (count === r.ids.length && r.unlistedBound >= kth) return undefined; // ties may go on past the list
    kept = { count, total: sum(r.weights, count), complete: true };
  }
  if (topP < 1) {
    const limit = Math.fround(1 - topP);
    // HF keeps token j iff the ascending cumulative probability up to and including it, 1 - mass above j, exceeds 1 - p.
    const keeps = (above: number): boolean => Math.fround(1 - above / kept.total) > limit;
    let above = r.weights[0];
    let count = 1;
    while (count < kept.count && keeps(above)) above += r.weights[count++];
    if (count === kept.count && !kept.complete && keeps(above)) return undefined; // the next, unlisted token is kept too
    kept = { count, total: above, complete: true };
  }
  return kept;
}

function sum(values: Float64Array, count: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += values[i];
  return total;
}

/** The token at cumulative probability u of the kept prefix; -1 when it lies past the listed tokens. */
function pick(r: Ranked, kept: Kept, u: number): number {
  const target = u * kept.total;
  let cumulative = 0;
  for (let i = 0; i < kept.count; i++) {
    cumulative += r.weights[i];
    if (cumulative > target) return r.ids[i];
  }
  return kept.complete ? r.ids[kept.count - 1] : -1;
}

function vocabOf(logits: Tensor<'f32'>): number {
  return logits.shape[logits.rank - 1];
}

/**
 * Runs the GPU candidate passes and ranks what comes back. `wholeDistribution`: an unfiltered
 * distribution is wanted whole, not just enough of it for one draw.
 */
async function rankCandidates(
  logits: Tensor<'f32'>,
  options: SamplingOptions,
  wholeDistribution: boolean,
): Promise<Ranked> {
  const vocab = vocabOf(logits);
  const { topK = 0, topP = 1 } = options;
  const kFilter = topK > 0 && topK < vocab;
  const request = {
    temperature: options.temperature,
    needCount: kFilter ? topK + 1 : wholeDistribution && topP === 1 ? vocab : 2,
    // A little over top-p's mass, so that the first token it drops is usually listed too.
    needMass: kFilter ? 0 : topP < 1 ? Math.max(topP, Math.min(topP + 1e-3, UNFILTERED_MASS)) : UNFILTERED_MASS,
    capacity: Math.min(options.maxCandidates ?? DEFAULT_CANDIDATES, vocab),
  };
  const { stats, candidates } = recordCandidates(logits, request);
  const [statsBytes, candidateBytes] = await logits.device.read([stats.bindingRef(), candidates.bindingRef()]);
  stats.dispose();
  candidates.dispose();
  const [maxLogit, z] = new Float32Array(statsBytes, 0, 2);
  if (!(Number.isFinite(maxLogit) && Number.isFinite(z) && z > 0))
    throw new NonFiniteLogitsError(z < 0 ? 'a NaN or an infinity among them' : `max ${maxLogit}, sum ${z}`);
  const count = Math.min(new Uint32Array(statsBytes)[4], request.capacity);
  const words = new Uint32Array(candidateBytes, 0, 2 * count);
  const values = new Float32Array(candidateBytes, 0, 2 * count);
  const ids = new Int32Array(count);
  const candidateLogits = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    candidateLogits[i] = values[2 * i];
    ids[i] = words[2 * i + 1];
  }
  // Z was summed around the raw max with 1/T; the weights are relative to the max scaled logit: the same up to rounding.
  return rank(ids, candidateLogits, options.temperature, z, vocab);
}

async function rankAll(logits: Tensor<'f32'>, temperature: number): Promise<Ranked> {
  const values = await logits.read();
  const vocab = vocabOf(logits);
  const ids = new Int32Array(vocab);
  for (let i = 0; i < vocab; i++) ids[i] = i;
  return rank(ids, values, temperature, undefined, vocab);
}

/** The filtered distribution the next token is drawn from (temperature > 0). */
export async function samplingDistribution(
  logits: Tensor<'f32'>,
  options: SamplingOptions,
): Promise<TokenDistribution> {
  checkSamplingOptions(options);
  if (options.temperature === 0)
    throw new SamplingError('samplingDistribution: temperature 0 is greedy decoding, not a distribution');
  const vocab = vocabOf(logits);
  const { topK = 0, topP = 1 } = options;
  let source: TokenDistribution['source'] = 'candidates';
  let ranked = await rankCandidates(logits, options, true);
  let kept = filter(ranked, vocab, topK, topP);
  if (!kept?.complete) {
    source = 'full';
    ranked = await rankAll(logits, options.temperature);
    kept = filter(ranked, vocab, topK, topP) as Kept;
  }
  const probs = ranked.weights.slice(0, kept.count);
  for (let i = 0; i < probs.length; i++) probs[i] /= kept.total;
  return { ids: ranked.ids.slice(0, kept.count), probs, source };
}

/** Draws a token id from a distribution with `rng`. */
export function drawToken(distribution: TokenDistribution, rng: RandomSource): number {
  const u = rng.nextFloat();
  let cumulative = 0;
  for (let i = 0; i < distribution.ids.length; i++) {
    cumulative += distribution.probs[i];
    if (cumulative > u) return distribution.ids[i];
  }
  return distribution.ids[distribution.ids.length - 1];
}

/**
 * The next token from logits [V] (or [1, V]) f32. Takes one number from the generator (none when
 * greedy), so a generator carried across steps gives the same sequence for the same seed.
 */
export async function sample(logits: Tensor<'f32'>, options: SamplingOptions): Promise<number> {
  checkSamplingOptions(options);
  if (options.temperature === 0) {
    const best = argmax(logits);
    const [id] = await best.read();
    best.dispose();
    if (id < 0) throw new NonFiniteLogitsError('a NaN or an infinity among them');
    return id;
  }
  const rng = options.rng ?? new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const u = rng.nextFloat();
  const vocab = vocabOf(logits);
  const { topK = 0, topP = 1 } = options;
  const candidates = await rankCandidates(logits, options, false);
  const kept = filter(candidates, vocab, topK, topP);
  const token = kept ? pick(candidates, kept, u) : -1;
  if (token >= 0) return token;
  const all = await rankAll(logits, options.temperature);
  return pick(all, filter(all, vocab, topK, topP) as Kept, u);
}
