/**
 * Loading a FastVLM folder's three parts from one open checkpoint, as checkpoint-layout.ts lays
 * them out: each part's module tree built from config.json, its weights loaded by name under its
 * prefix, then each model's inference-time fusions. A missing tensor or a shape that disagrees
 * with config.json is a CheckpointError naming the tensor; whatever was loaded before a failure
 * is freed.
 */
import {
  checkInferenceForm,
  fuseForInference as fuseFastVitHdForInference,
  type VisionDType,
} from '@fastvlm/fastvithd';
import { loadWeights } from '@fastvlm/nn';
import { fuseForInference as fuseQwen2ForInference, lmHeadSource, type ModelDType } from '@fastvlm/qwen2';
import { Tensor, type Device, type SafetensorsCheckpoint } from '@fastvlm/tensor';
import { buildParts, PART_PREFIXES, type ModelParts, type PartName } from '../checkpoint-layout.js';
import type { FastVlmConfig } from '../config.js';

export type LoadStage = 'config' | 'tokenizer' | 'vision tower' | 'projector' | 'llm' | 'ready';

export interface LoadProgress {
  stage: LoadStage;
  /** Seconds since loading began. */
  seconds: number;
}

export interface PartDTypes {
  /** The decoder's and the projector's matrices. */
  llm: ModelDType;
  vision: VisionDType;
}

/** The tower's dtype when none is asked for: f32 with an f32 model, else f16. */
export function defaultVisionDtype(dtype: ModelDType): VisionDType {
  return dtype === 'f32' ? 'f32' : 'f16';
}

const STAGES: Readonly<Record<PartName, LoadStage>> = { vision: 'vision tower', projector: 'projector', llm: 'llm' };

/**
 * Runs the tower once on a blank image with every dispatch one workgroup (`Device.warmPipelines`):
 * its pipelines are created, and where the adapter compiles at first dispatch (lavapipe) compiled
 * on the GPU's queue while the decoder's weights are read; the first image then compiles none.
 */
function warmVisionPipelines(device: Device, vision: ModelParts['vision'], imageSize: number): void {
  device.warmPipelines(() => {
    vision.encode(Tensor.zeros(device, [imageSize, imageSize, 3], 'f32'));
  });
}

export async function loadParts(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  config: FastVlmConfig,
  dtypes: PartDTypes,
  progress: (stage: LoadStage) => void,
  options: { warmPipelines: boolean },
): Promise<ModelParts> {
  checkInferenceForm(checkpoint, PART_PREFIXES.vision);
  const parts = buildParts(config, await lmHeadSource(checkpoint, config.llm, PART_PREFIXES.llm));
  try {
    for (const part of ['vision', 'projector', 'llm'] as const) {
      progress(STAGES[part]);
      const dtype = part === 'vision' ? dtypes.vision : dtypes.llm;
      await loadWeights(parts[part], device, checkpoint, { dtype, prefix: PART_PREFIXES[part] });
      if (part === 'vision') {
        fuseFastVitHdForInference(parts.vision);
        if (options.warmPipelines) warmVisionPipelines(device, parts.vision, config.imageSize);
      }
    }
    fuseQwen2ForInference(parts.llm);
    return parts;
  } catch (error) {
    for (const part of Object.values(parts)) part.dispose();
    throw error;
  }
}
