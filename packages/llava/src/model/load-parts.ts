/**
 * Loading a FastVLM folder's three parts from one open checkpoint: the FastViTHD tower, the
 * projector and the Qwen2 decoder. A missing tensor or a shape that disagrees with config.json is
 * a CheckpointError naming the tensor; whatever was loaded before a failure is freed.
 */
import { fastVitHdConfig, loadFastVitHd, type FastViTHD, type VisionDType } from '@fastvlm/fastvithd';
import {
  checkpointSource,
  loadQwen2FromCheckpoint,
  Weights,
  type ModelDType,
  type Qwen2ForCausalLM,
} from '@fastvlm/qwen2';
import type { Device, SafetensorsCheckpoint } from '@fastvlm/tensor';
import type { FastVlmConfig } from '../config.js';
import { PROJECTOR_MODULE, Projector } from './projector.js';

export type LoadStage = 'config' | 'tokenizer' | 'vision tower' | 'projector' | 'llm' | 'ready';

export interface LoadProgress {
  stage: LoadStage;
  /** Seconds since loading began. */
  seconds: number;
}

export interface ModelParts {
  vision: FastViTHD;
  projector: Projector;
  llm: Qwen2ForCausalLM;
}

export interface PartDTypes {
  /** The decoder's and the projector's matrices. */
  llm: ModelDType;
  vision: VisionDType;
}

export async function loadParts(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  config: FastVlmConfig,
  dtypes: PartDTypes,
  progress: (stage: LoadStage) => void,
): Promise<ModelParts> {
  const loaded: { dispose(): void }[] = [];
  try {
    progress('vision tower');
    const vision = await loadFastVitHd(device, checkpoint, {
      config: fastVitHdConfig(config.imageSize),
      dtype: dtypes.vision,
    });
    loaded.push(vision);
    progress('projector');
    const projectorWeights = Weights.root(checkpointSource(device, checkpoint), dtypes.llm, `${PROJECTOR_MODULE}.`);
    loaded.push({ dispose: () => projectorWeights.disposeAll() });
    const projector = await Projector.load(projectorWeights, config.mmHiddenSize, config.llm.hiddenSize);
    progress('llm');
    const llm = await loadQwen2FromCheckpoint(device, checkpoint, config.llm, { dtype: dtypes.llm });
    return { vision, projector, llm };
  } catch (error) {
    for (const part of loaded) part.dispose();
    throw error;
  }
}
