/**
 * Random weights under which every branch of FastVLM matters and activations stay O(1): the rules
 * of tools/python/fastvlm_reference/random_init.py, drawn from our own seeded generator (the same
 * distributions, not torch's numbers). BatchNorm statistics and affine parameters are far from
 * identity, layer scales 0.1-0.4, every bias non-zero, folded RepMixer / RepCPE convs an identity
 * tap plus noise, weights std gain/sqrt(fan_in).
 */
import type { LayoutTensor } from '@fastvlm/llava';
import type { RandomStream } from './random-stream.js';

/** How one tensor's values are drawn. `identityTap`: normal noise plus 1 on each kernel's centre tap. */
export type InitRule =
  | { kind: 'zeros' }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'normal'; std: number }
  | { kind: 'identityTap'; std: number; kernel: number };

// Folded convs followed by GELU outside any residual (stem, downsamples, conv_exp) get gain sqrt(2):
// GELU roughly halves the RMS of a small input.
const BEFORE_GELU = ['lkb_reparam.weight', 'proj.1.reparam_conv.weight', 'conv_exp.reparam_conv.weight'];

const endsWithAny = (name: string, suffixes: readonly string[]): boolean =>
  suffixes.some((suffix) => name.endsWith(suffix));

/** conv [out, in/groups, k, k] or linear [out, in] -> in/groups * k * k. */
const fanIn = (shape: readonly number[]): number => shape.slice(1).reduce((a, b) => a * b, 1);

/** What a rule is chosen by: the tensor's name and shape, and whether the layout says its identity is folded in. */
export type RuleInput = Pick<LayoutTensor, 'name' | 'shape' | 'identityFolded'>;

/**
 * The init rule for a checkpoint tensor (checked in the Python reference's order): by its name's
 * ending, and the layout's `identityFolded` for RepMixer's and RepCPE's folded convolutions.
 */
export function initRule({ name, shape, identityFolded }: RuleInput): InitRule {
  if (name.endsWith('num_batches_tracked')) return { kind: 'zeros' };
  if (name.endsWith('bn.running_mean')) return { kind: 'normal', std: 0.5 };
  if (name.endsWith('bn.running_var')) return { kind: 'uniform', low: 0.5, high: 2 };
  // BatchNorm, LayerNormChannel and RMSNorm gains.
  if (endsWithAny(name, ['bn.weight', 'norm.weight', 'layernorm.weight']))
    return { kind: 'uniform', low: 0.5, high: 1.5 };
  if (name.includes('layer_scale')) return { kind: 'uniform', low: 0.1, high: 0.4 };
  if (name.endsWith('.bias')) return { kind: 'normal', std: 0.1 };
  if (name.endsWith('head.proj')) return { kind: 'normal', std: shape[0] ** -0.5 }; // [3072, 768], used as x @ proj
  // Logits O(1) through the tied head.
  if (endsWithAny(name, ['embed_tokens.weight', 'lm_head.weight']))
    return { kind: 'normal', std: 2 * shape[1] ** -0.5 };
  if (identityFolded) {
    const kernel = shape[shape.length - 1];
    return { kind: 'identityTap', std: 0.2 / kernel, kernel };
  }
  if (endsWithAny(name, BEFORE_GELU) || name.includes('patch_embed'))
    return { kind: 'normal', std: Math.sqrt(2 / fanIn(shape)) };
  if (name.endsWith('.weight')) return { kind: 'normal', std: fanIn(shape) ** -0.5 };
  throw new Error(`no random init rule for ${name} [${shape.join(', ')}]`);
}

/**
 * Fills `out` with the values of elements [start, start + out.length) of a tensor drawn by `rule`
 * from `random`, which must have produced the elements before `start` already: call in order, in
 * chunks of even length (a normal pair is never split) but the last.
 */
export function fillRandom(rule: InitRule, random: RandomStream, out: Float32Array, start: number): void {
  switch (rule.kind) {
    case 'zeros':
      out.fill(0);
      return;
    case 'uniform':
      random.fillUniform(out, rule.low, rule.high);
      return;
    case 'normal':
      random.fillNormal(out, rule.std);
      return;
    case 'identityTap': {
      random.fillNormal(out, rule.std);
      // [out, in/groups, k, k]: the centre tap is element (k/2)*k + k/2 of every k*k kernel.
      const taps = rule.kernel * rule.kernel;
      const centre = (rule.kernel >> 1) * rule.kernel + (rule.kernel >> 1);
      const first = (centre - (start % taps) + taps) % taps;
      for (let i = first; i < out.length; i += taps) out[i] += 1;
      return;
    }
  }
}
