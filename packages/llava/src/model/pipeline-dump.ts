/**
 * Every intermediate of one image + prompt, read back for parity checks and `describe --dump`:
 * the names match tools/python/make_llava_fixtures.py's reference dumps.
 */
import type { ImageInput } from '@fastvlm/fastvithd';
import { embedding, spliceRows } from '@fastvlm/kernels';
import { Tensor } from '@fastvlm/tensor';
import type { FastVLM } from './fast-vlm.js';
import { IMAGE_TOKEN_INDEX, type Prompt } from './prompt.js';

export interface DumpedTensor {
  data: Float32Array;
  shape: number[];
}

export interface PipelineDump {
  promptTokenIds: number[];
  /** [N, N, 3] */
  pixel_values: DumpedTensor;
  /** [I, 3072] */
  vision_features: DumpedTensor;
  /** [I, hidden] */
  image_embeds: DumpedTensor;
  /** [T - 1 + I, hidden] */
  inputs_embeds: DumpedTensor;
  /** [T - 1 + I, vocab]: logits at every position of one causal forward. */
  prefill_logits: DumpedTensor;
}

/**
 * Runs the image and prompt through the tower, projector and one prefill, keeping every stage.
 * The prompt is encoded as a request encodes it (`allowSpecialTokens` as there).
 */
export async function dumpPipeline(
  model: FastVLM,
  image: ImageInput,
  prompt: Prompt,
  { allowSpecialTokens = false }: { allowSpecialTokens?: boolean } = {},
): Promise<PipelineDump> {
  const device = model.device;
  const promptTokenIds = model.encodePrompt(prompt, true, undefined, allowSpecialTokens);
  const pixels = await model.preprocess(image);
  const at = promptTokenIds.indexOf(IMAGE_TOKEN_INDEX);
  const textIds = Int32Array.from(promptTokenIds, (id) => (id === IMAGE_TOKEN_INDEX ? 0 : id));
  const cache = model.llm.createCache(model.promptPositions(promptTokenIds));
  try {
    const stages = device.scope(() => {
      const pixelTensor = Tensor.fromArray(device, pixels.data, pixels.shape, 'f32');
      const features = model.vision.encode(pixelTensor); // [I, 3072]
      const imageEmbeds = model.projector.forward(features); // [I, hidden]
      const text = embedding(
        Tensor.fromArray(device, textIds, [textIds.length], 'i32'),
        model.llm.model.embed_tokens.weight.value,
      );
      const inputsEmbeds = spliceRows(text, imageEmbeds, at); // [T - 1 + I, hidden]
      const logits = model.llm.forward({ embeds: inputsEmbeds }, cache, 0, 'all'); // [T - 1 + I, vocab]
      return {
        pixel_values: pixelTensor,
        vision_features: features,
        image_embeds: imageEmbeds,
        inputs_embeds: inputsEmbeds,
        prefill_logits: logits,
      };
    });
    try {
      const read = async (tensor: Tensor<'f32'>): Promise<DumpedTensor> => ({
        data: await tensor.toFloat32(),
        shape: [...tensor.shape],
      });
      return {
        promptTokenIds,
        pixel_values: await read(stages.pixel_values),
        vision_features: await read(stages.vision_features),
        image_embeds: await read(stages.image_embeds),
        inputs_embeds: await read(stages.inputs_embeds),
        prefill_logits: await read(stages.prefill_logits),
      };
    } finally {
      for (const tensor of Object.values(stages)) tensor.dispose();
    }
  } finally {
    cache.dispose();
  }
}
