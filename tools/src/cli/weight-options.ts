/**
 * The weight dtype flags the model commands share: `--dtype` (LLM and projector) and
 * `--vision-dtype` (the tower), checked into what FastVLM.load takes.
 */
import type { VisionDType } from '@fastvlm/fastvithd';
import type { ModelDType } from '@fastvlm/qwen2';
import { Option } from 'commander';
import { UsageError } from './errors.js';

export interface WeightFlags {
  readonly dtype?: string;
  readonly visionDtype?: string;
}

const DTYPES = ['f32', 'f16', 'int8', 'int4'] as const;
const VISION_DTYPES = ['f32', 'f16', 'int8'] as const;

/** --dtype, for `command.addOption(...)`. */
export function dtypeOption(): Option {
  return new Option(
    '--dtype <dtype>',
    "weights of the LLM and projector: 'f32', 'f16', 'int8' or 'int4' (group-wise, an f16 scale per 32 inputs; embedding and LM head in int8)",
  ).default('f16');
}

/** --vision-dtype, for `command.addOption(...)`. */
export function visionDtypeOption(): Option {
  return new Option(
    '--vision-dtype <dtype>',
    "weights of the vision tower: 'f32', 'f16' or 'int8' (its 1x1 convolutions and attention matrices; default: f32 with --dtype f32, else f16)",
  );
}

/** The checked dtypes; a bad value is a UsageError naming the flag. */
export function weightDtypes(flags: WeightFlags): { dtype: ModelDType; visionDtype?: VisionDType } {
  const check = <T extends string>(flag: string, value: string, allowed: readonly string[]): T => {
    if (!allowed.includes(value))
      throw new UsageError(`${flag} must be ${allowed.map((d) => `'${d}'`).join(', ')}, got '${value}'`);
    return value as T;
  };
  const dtype = check<ModelDType>('--dtype', flags.dtype ?? 'f16', DTYPES);
  return flags.visionDtype === undefined
    ? { dtype }
    : { dtype, visionDtype: check<VisionDType>('--vision-dtype', flags.visionDtype, VISION_DTYPES) };
}
