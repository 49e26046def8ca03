/**
 * FastViTHD, MobileCLIP-L's image tower as FastVLM uses it: pixels [N, N, 3] -> image features
 * [(N/64)^2, 3072]. Its modules in the order of the checkpoint's names (maps channels-last):
 *
 *   patch_embed   3 MobileOneBlocks     [N, N, 3] -> [N/4, N/4, 96]
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
 *   head          GlobalPool2D          MobileCLIP's embedding head, unused by FastVLM
 *
 * The whole forward is recorded into the device's current command batch (no readback); each
 * layer's temporaries are freed as soon as the next layer has been recorded.
 */
import { Conv2d, Module, Parameter, PointwiseConv2d, type Child } from '@fastvlm/nn';
import { formatShape, ShapeError, type Device, type Tensor } from '@fastvlm/tensor';
import { AttentionBlock } from './attention-block.js';
import type { FastVitHdConfig } from './config.js';
import { ConvExp } from './conv-exp.js';
import { MobileOneBlock } from './mobile-one-block.js';
import { PatchEmbed } from './patch-embed.js';
import { RepCPE } from './rep-cpe.js';
import { RepMixerBlock } from './rep-mixer-block.js';

/** One entry of the tower: a map [H, W, C] in, a map out. */
export interface Layer extends Module {
  forward(x: Tensor<'f32'>): Tensor<'f32'>;
}

/** Layers run in order (PyTorch's nn.Sequential, named by index); each one's temporaries live in a scope of their own. */
export class Blocks extends Module implements Layer {
  constructor(readonly blocks: readonly Layer[]) {
    super();
  }

  override children(): [string, Child][] {
    return this.blocks.map((block, i) => [String(i), block]);
  }

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

/** `patch_embed`: three MobileOneBlocks, each a conv then GELU: [N, N, 3] -> [N/2, N/2, C] -> [N/4, N/4, C]. */
function convolutionalStem(channels: number): Blocks {
  return new Blocks([
    new MobileOneBlock(new Conv2d(3, channels, 3, { stride: 2, padding: 1 })),
    new MobileOneBlock(new Conv2d(channels, channels, 3, { stride: 2, padding: 1, groups: channels })),
    new MobileOneBlock(new PointwiseConv2d(channels, channels)),
  ]);
}

/** MobileCLIP's head (global pool, then `proj` to the CLIP embedding): in the checkpoint, not used by FastVLM. */
export class GlobalPool2D extends Module {
  readonly proj: Parameter<'unused'>;

  constructor(inDim: number, outDim: number) {
    super();
    this.proj = Parameter.unused([inDim, outDim]);
  }
}

/** MobileCLIP-L's image embedding width (the unused head's output). */
const CLIP_EMBED_WIDTH = 768;

/** The features and, by name (`stem`, `network.0` .. `network.10`, `conv_exp`), each stage's output. */
export interface EncodeResult {
  /** [(N/64)^2, 3072] */
  features: Tensor<'f32'>;
  /** Empty unless asked for. Maps [H, W, C]; `conv_exp` shares the features' storage. */
  stages: Record<string, Tensor<'f32'>>;
}

export class FastViTHD extends Module {
  readonly patch_embed: Blocks;
  readonly network: readonly Layer[];
  readonly conv_exp: ConvExp;
  readonly head: GlobalPool2D;

  /** The module tree for `config`, its parameters declared and not loaded (see load.ts). */
  constructor(readonly config: FastVitHdConfig) {
    super();
    const { widths, depths, tokenMixers, mlpRatio, headDim } = config;
    this.patch_embed = convolutionalStem(widths[0]);
    const network: Layer[] = [];
    for (let stage = 0; stage < widths.length; stage++) {
      const channels = widths[stage];
      if (stage > 0) network.push(new PatchEmbed(widths[stage - 1], channels));
      if (tokenMixers[stage] === 'attention') network.push(new RepCPE(channels));
      const blocks = Array.from({ length: depths[stage] }, () =>
        tokenMixers[stage] === 'repmixer'
          ? new RepMixerBlock(channels, mlpRatio)
          : new AttentionBlock(channels, mlpRatio, headDim),
      );
      network.push(new Blocks(blocks));
    }
    this.network = network;
    this.conv_exp = new ConvExp(widths[widths.length - 1], config.embedDim, config.seWidth);
    this.head = new GlobalPool2D(config.embedDim, CLIP_EMBED_WIDTH);
  }

  /** The device its weights are on (once loaded). */
  get device(): Device {
    return this.conv_exp.reparam_conv.weight.value.device;
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
      step('stem', this.patch_embed);
      this.network.forEach((layer, i) => step(`network.${i}`, layer));
      step('conv_exp', this.conv_exp);
      return { features: x.reshape([tokens, embedDim]), stages }; // [h, w, 3072] -> [h*w, 3072]
    });
  }
}
