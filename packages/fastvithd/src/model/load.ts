/**
 * Loading the tower from a FastVLM checkpoint: the tensors under `model.vision_tower.vision_tower.model.`
 * in the reparameterized inference form that apple/FastVLM-* ships. A train-form tower (MobileOne
 * branches, unfolded RepMixer / RepCPE / large-kernel convs) is refused: it must be folded first.
 */
import { loadWeights, type WeightDType } from '@fastvlm/nn';
import { CheckpointError, type Device, type SafetensorsCheckpoint } from '@fastvlm/tensor';
import type { FastVitHdConfig } from './config.js';
import { FastViTHD } from './fastvithd.js';
import { fuseForInference } from './fusions.js';

/**
 * How the tower's weights are held on the GPU; biases and norms stay f32. 'int8': the matrices
 * (1x1 convolutions, attention qkv and proj) in int8 with one scale per output channel; the spatial
 * and grouped convolutions in f16.
 */
export type VisionDType = Exclude<WeightDType, 'int4'>;

/** Where the tower's tensors live in a FastVLM checkpoint. */
export const VISION_TOWER_PREFIX = 'model.vision_tower.vision_tower.model.';

/**
 * Name parts that only the train form has: MobileOne's branches (rbr_conv, rbr_scale, rbr_skip),
 * ReparamLargeKernelConv's (lkb_origin / large_conv, small_conv), RepMixer's unfolded mixer and
 * norm, and RepCPE's separate `pe` conv.
 */
const TRAIN_FORM =
  /(^|\.)(rbr_conv|rbr_scale|rbr_skip|lkb_origin|large_conv|small_conv|pe)(\.|$)|(^|\.)token_mixer\.(mixer|norm)\./;

/** Throws a CheckpointError naming the first tensor under `prefix` that belongs to the train form. */
export function checkInferenceForm(checkpoint: SafetensorsCheckpoint, prefix = VISION_TOWER_PREFIX): void {
  for (const name of checkpoint.names()) {
    if (name.startsWith(prefix) && TRAIN_FORM.test(name.slice(prefix.length))) {
      throw new CheckpointError(
        name,
        "is part of FastViTHD's train form (un-reparameterized branches); only the inference form that " +
          'apple/FastVLM checkpoints ship (reparam_conv, lkb_reparam) can be loaded: reparameterize the tower first ' +
          "(Apple's reparameterize_model in mobileclip's mci.py folds every branch)",
      );
    }
  }
}

export interface LoadFastVitHdOptions {
  config: FastVitHdConfig;
  /** GPU dtype of the convolution and matrix weights (biases and norms are f32). Default 'f16'. */
  dtype?: VisionDType;
  /** Default VISION_TOWER_PREFIX. */
  prefix?: string;
}

/**
 * Loads the tower's weights onto `device`, then its inference-time fusions. A missing tensor, a wrong shape or a train-form
 * checkpoint is a CheckpointError naming the tensor; nothing stays allocated after a failure.
 */
export async function loadFastVitHd(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  options: LoadFastVitHdOptions,
): Promise<FastViTHD> {
  const prefix = options.prefix ?? VISION_TOWER_PREFIX;
  checkInferenceForm(checkpoint, prefix);
  const tower = new FastViTHD(options.config);
  await loadWeights(tower, device, checkpoint, { dtype: options.dtype ?? 'f16', prefix });
  fuseForInference(tower);
  return tower;
}
