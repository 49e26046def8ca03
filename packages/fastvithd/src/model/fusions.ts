/**
 * FastViTHD's inference-time fusion, applied once after loading (loadFastVitHd and FastVLM's loader
 * call it): the BatchNorm of every ConvFFN folded into the depthwise 7x7 before it (44 at every
 * image size), so no call folds it again. The checkpoint already holds the other branches of the
 * train-time blocks (MobileOne, RepMixer, RepCPE, large-kernel convs) reparameterized, so there is
 * nothing else to fold.
 */
import { DepthwiseConvBatchNorm } from '@fastvlm/nn';
import type { FastViTHD } from './fastvithd.js';

export function fuseForInference(tower: FastViTHD): void {
  for (const module of tower.modules()) if (module instanceof DepthwiseConvBatchNorm) module.foldBatchNorm();
  tower.device.releaseFreeBuffers();
}
