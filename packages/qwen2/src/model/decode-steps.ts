/**
 * Decode steps of one generation, recorded once and then replayed. Every step after the prompt runs
 * the same ~200 dispatches on the same buffers (the pool hands a step the buffers the previous one
 * had); only the token and the position change. The token goes into a buffer of its own, uploaded
 * before the step; the position lives in uniform words (RoPE's start, attention's length, where the
 * KV cache is written) that advance by one each step.
 *
 * So the first steps are recorded through the model as usual; from two consecutive recordings
 * `StepUniforms` learns which uniform words advance, and the next recording must be exactly what it
 * predicts (same pipelines, bind groups, workgroups, uniform bytes). Then every later step is
 * `device.replay` of that recording with the predicted uniforms: no model code, no tensors, no
 * bind-group lookups. (The first decode step may differ from the second: the pool still holds the
 * prompt's buffers. Learning slides over the first steps; if none agree within
 * MAX_LEARNING_STEPS, every step is recorded as usual.)
 */
import { checkTokenIds, type KvCache } from '@fastvlm/kernels';
import {
  recordedBufferIds,
  ShapeError,
  StepUniforms,
  Tensor,
  type Device,
  type PooledBuffer,
  type RecordedWork,
} from '@fastvlm/tensor';
import type { Qwen2ForCausalLM } from './qwen2-model.js';

/** Steps recorded while learning, at most, before giving replay up. */
const MAX_LEARNING_STEPS = 8;

export type DecodeStepMode = 'learning' | 'replaying' | 'recording';

export interface DecodeStepsOptions {
  /** false: record every step through the model (no replay). Default true. */
  replay?: boolean;
}

export class DecodeSteps {
  /** The step's token id, written before each step. */
  private readonly ids: Tensor<'i32'>;
  /** The last recording while learning; then the one replayed. */
  private recording: { work: RecordedWork; step: number } | undefined;
  /** Uniforms learned from `recording` and the one before it, step numbers relative to `base`. */
  private uniforms: { values: StepUniforms; base: number } | undefined;
  /** The verified step's logits, kept: a replay writes them again. */
  private output: Tensor<'f32'> | undefined;
  private reserved: PooledBuffer[] = [];
  private stepIndex = 0;
  private disposed = false;
  mode: DecodeStepMode;
  /** Steps run through the model / replayed, for tests and benchmarks. */
  readonly counts = { recorded: 0, replayed: 0 };

  /** The model's device, held here: dispose() must work after the model's weights are freed. */
  private readonly device: Device;

  constructor(
    private readonly model: Qwen2ForCausalLM,
    private readonly cache: KvCache,
    options: DecodeStepsOptions = {},
  ) {
    this.device = model.device;
    this.mode = options.replay === false ? 'recording' : 'learning';
    this.ids = Tensor.zeros(this.device, [1], 'i32', { label: 'decode-token' }).keep();
  }

  /**
   * Logits [1, vocab] of `token` at `position`, which must be the cache's length (the step after the
   * previous one). Records (or replays) GPU work only; the caller reads and disposes the logits.
   */
  step(token: number, position: number): Tensor<'f32'> {
    if (this.disposed) throw new ShapeError('DecodeSteps: used after dispose()');
    if (position !== this.cache.length) {
      throw new ShapeError(
        `DecodeSteps: position ${position} is not the next one (the cache holds ${this.cache.length})`,
      );
    }
    checkTokenIds(Int32Array.of(token), this.model.config.vocabSize);
    this.ids.write([token]);
    // A profile times each dispatch as it is recorded and a dry run records nothing: no replay then.
    if (this.mode === 'replaying' && this.device.replayAllowed) return this.replayStep(position);
    return this.recordStep(position);
  }

  private replayStep(position: number): Tensor<'f32'> {
    const { values, base } = this.uniforms!;
    this.device.replay(this.recording!.work, values.at(this.stepIndex - base));
    // What ropeQkvIntoCache would have set.
    this.cache.length = position + 1;
    this.stepIndex++;
    this.counts.replayed++;
    return this.output!.reshape(this.output!.shape);
  }

  private recordStep(position: number): Tensor<'f32'> {
    const learning = this.mode === 'learning' && this.device.replayAllowed;
    if (!learning) {
      this.counts.recorded++;
      this.stepIndex++;
      return this.forward(position);
    }
    this.device.beginRecording();
    let logits: Tensor<'f32'>;
    let work: RecordedWork;
    try {
      logits = this.forward(position);
    } finally {
      work = this.device.endRecording();
    }
    this.counts.recorded++;
    this.learn(work);
    this.stepIndex++;
    if (this.mode !== 'replaying') return logits;
    // The verified step: its logits buffer is where every replay writes; the caller gets a view.
    this.output = logits.keep();
    return logits.reshape(logits.shape);
  }

  /** Two consecutive recordings teach the uniforms; the next must match their prediction. */
  private learn(work: RecordedWork): void {
    const step = this.stepIndex;
    if (this.uniforms?.values.predicts(work, step - this.uniforms.base, this.recording!.work)) {
      this.recording = { work, step };
      this.reserved = this.device.reserveFreeBuffers(recordedBufferIds(work));
      this.mode = 'replaying';
      return;
    }
    const values = this.recording && StepUniforms.learn(this.recording.work, work);
    this.uniforms = values ? { values, base: this.recording!.step } : undefined;
    this.recording = { work, step };
    if (step + 1 >= MAX_LEARNING_STEPS) {
      this.mode = 'recording';
      this.recording = undefined;
      this.uniforms = undefined;
    }
  }

  private forward(position: number): Tensor<'f32'> {
    const model = this.model;
    return this.device.scope(() => {
      const embeds = model.model.embed_tokens.forward(this.ids); // [1, hidden]
      return model.forward({ embeds }, this.cache, position, 'last');
    });
  }

  /** Gives back what the replays kept (call before the cache is disposed). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Released in the batch being recorded: the pool delays uploads into them past it (Device.upload).
    for (const entry of this.reserved) this.device.release(entry);
    this.reserved = [];
    this.output?.dispose();
    this.ids.dispose();
    this.recording = undefined;
  }
}
