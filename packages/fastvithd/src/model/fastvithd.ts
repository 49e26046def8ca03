/**
 * FastViTHD, MobileCLIP-L's image tower as FastVLM uses it: pixels [N, N, 3] -> image features
 * [(N/64)^2, 3072]. Stages in the order of the checkpoint's names (maps channels-last):
 *
 *   patch_embed   Stem                  [N, N, 3] -> [N/4, N/4, 96]
 *   network.0     2 RepMixerBlocks      96 ch
 *   network.1     PatchEmbed            -> [N/8, N/8, 192]
 *   network.2     12 RepMixerBlocks
 *   network.3     PatchEmbed            -> [N/16, N/16, 384]
 *   network.4     24 RepMixerBlocks
 *   network.5     PatchEmbed            -> [N/32, N/32, 768]
 *   network.6     RepCPE
 *   network.7     4 AttentionBlocks     (N/32)^2 tokens
 *   network.8     PatchEmbed            -> [N/64, N/64, 1536]
 *   network.9     RepCPE
 *   network.10    2 AttentionBlocks
 *   conv_exp      ConvExp               -> [N/64, N/64, 3072], rows over (h, w): the features
 *
 * The whole forward is recorded into the device's current command batch (no readback); each
 * layer's temporaries are freed as soon as the next layer has been recorded.
 */
import { formatShape, ShapeError, type Tensor } from '@fastvlm/tensor';
import { AttentionBlock } from './attention-block.js';
import type { FastVitHdConfig } from './config.js';
import { ConvExp } from './conv-exp.js';
import { PatchEmbedDownsample } from './patch-embed-downsample.js';
import { RepCPE } from './rep-cpe.js';
import { RepMixerBlock } from './rep-mixer-block.js';
import { Stem } from './stem.js';
import type { TowerWeights } from './weights.js';

/** One entry of the tower: a map [H, W, C] in, a map out. */
export interface Layer {
  forward(x: Tensor<'f32'>): Tensor<'f32'>;
}

/** A stage's blocks, run in order; each block's temporaries live in a scope of their own. */
export class Blocks implements Layer {
  constructor(readonly blocks: readonly Layer[]) {}

  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    let y = x;
    for (const block of this.blocks) {
      const input = y;
      y = x.device.scope(() => block.forward(input));
      if (input !== x) input.dispose();
    }
    return y;
  }
}

/** The features and, by name (`stem`, `network.0` .. `network.10`, `conv_exp`), each stage's output. */
export interface EncodeResult {
  /** [(N/64)^2, 3072] */
  features: Tensor<'f32'>;
  /** Empty unless asked for. Maps [H, W, C]; `conv_exp` shares the features' storage. */
  stages: Record<string, Tensor<'f32'>>;
}

export class FastViTHD {
  private constructor(
    readonly config: FastVitHdConfig,
    /** patch_embed */
    readonly stem: Stem,
    readonly network: readonly Layer[],
    readonly convExp: ConvExp,
    private readonly weights: TowerWeights,
  ) {}

  /** Builds the tower from `weights` (rooted at the tower's prefix). On failure the caller frees what was loaded. */
  static async load(weights: TowerWeights, config: FastVitHdConfig): Promise<FastViTHD> {
    const { widths, depths, tokenMixers, mlpRatio, headDim } = config;
    const stem = await Stem.load(weights.at('patch_embed'), widths[0]);
    const network: Layer[] = [];
    const next = (): TowerWeights => weights.at('network').at(network.length);
    for (let stage = 0; stage < widths.length; stage++) {
      const channels = widths[stage];
      if (stage > 0) network.push(await PatchEmbedDownsample.load(next(), channels));
      if (tokenMixers[stage] === 'attention') network.push(await RepCPE.load(next(), channels));
      const stageWeights = next();
      const blocks: Layer[] = [];
      for (let b = 0; b < depths[stage]; b++) {
        const block = stageWeights.at(b);
        blocks.push(
          tokenMixers[stage] === 'repmixer'
            ? await RepMixerBlock.load(block, channels, mlpRatio)
            : await AttentionBlock.load(block, channels, mlpRatio, headDim),
        );
      }
      network.push(new Blocks(blocks));
    }
    const convExp = await ConvExp.load(weights.at('conv_exp'), config.embedDim, config.seWidth);
    return new FastViTHD(config, stem, network, convExp, weights);
  }

  /** pixels [N, N, 3] f32 (channels-last, values in [0, 1]) -> image features [(N/64)^2, 3072]. */
  encode(pixels: Tensor<'f32'>): Tensor<'f32'> {
    return this.run(pixels, false).features;
  }

  /** `encode`, also returning every stage's output (for parity checks and inspection). */
  encodeWithStages(pixels: Tensor<'f32'>): EncodeResult {
    return this.run(pixels, true);
  }

  private run(pixels: Tensor<'f32'>, keepStages: boolean): EncodeResult {
    const { imageSize: N, tokens, embedDim } = this.config;
    if (
      pixels.dtype !== 'f32' ||
      pixels.rank !== 3 ||
      pixels.shape[0] !== N ||
      pixels.shape[1] !== N ||
      pixels.shape[2] !== 3
    ) {
      throw new ShapeError(
        `FastViTHD: pixels must be f32 [${N}, ${N}, 3] (channels-last), got ${pixels.dtype} ${formatShape(pixels.shape)}`,
      );
    }
    const device = pixels.device;
    return device.scope(() => {
      const stages: Record<string, Tensor<'f32'>> = {};
      let x = pixels;
      const step = (name: string, layer: Layer): void => {
        const input = x;
        x = device.scope(() => layer.forward(input));
        if (keepStages) stages[name] = x;
        else if (input !== pixels) input.dispose();
      };
      step('stem', this.stem);
      this.network.forEach((layer, i) => step(`network.${i}`, layer));
      step('conv_exp', this.convExp);
      return { features: x.reshape([tokens, embedDim]), stages }; // [h, w, 3072] -> [h*w, 3072]
    });
  }

  /** Frees every weight of the tower. */
  dispose(): void {
    this.weights.disposeAll();
  }
}
