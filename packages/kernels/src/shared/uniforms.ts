/** Uniform data of u32 / i32 / f32 fields, in order, padded to 16 bytes (a WGSL `Params` struct of scalars). */
export function uniformFields(fields: readonly (readonly [number, 'u32' | 'f32' | 'i32'])[]): Uint32Array {
  const words = new Uint32Array(Math.ceil(fields.length / 4) * 4);
  const floats = new Float32Array(words.buffer);
  const ints = new Int32Array(words.buffer);
  fields.forEach(([value, type], i) => {
    if (type === 'f32') floats[i] = value;
    else if (type === 'i32') ints[i] = value;
    else words[i] = value;
  });
  return words;
}
