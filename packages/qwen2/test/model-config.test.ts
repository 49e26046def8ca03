/** Qwen2Config from config.json: every field checked, a ConfigError naming the one at fault. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseQwen2Config } from '../src/index.js';

describe('Qwen2 config', () => {
  it('is checked field by field', () => {
    const good = {
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_theta: 1e4,
      vocab_size: 1000,
      max_position_embeddings: 512,
    };
    expect(parseQwen2Config(good)).toMatchObject({
      headDim: 16,
      ropeTheta: 1e4,
      tieWordEmbeddings: true,
      eosTokenIds: [],
    });
    expect(
      parseQwen2Config({
        ...good,
        rope_theta: undefined,
        rope_parameters: { rope_theta: 5e5, rope_type: 'default' },
        eos_token_id: [1, 2],
      }),
    ).toMatchObject({ ropeTheta: 5e5, eosTokenIds: [1, 2] });
    const bad: [Record<string, unknown>, string][] = [
      [{ ...good, hidden_size: undefined }, 'hidden_size'],
      [{ ...good, num_key_value_heads: 3 }, 'num_key_value_heads'],
      [{ ...good, num_attention_heads: 6 }, 'num_attention_heads'],
      [{ ...good, rms_norm_eps: -1 }, 'rms_norm_eps'],
      [{ ...good, rope_theta: undefined }, 'rope_theta'],
      [{ ...good, vocab_size: 1.5 }, 'vocab_size'],
      [{ ...good, tie_word_embeddings: 'yes' }, 'tie_word_embeddings'],
      [{ ...good, max_position_embeddings: 0 }, 'max_position_embeddings'],
      [{ ...good, head_dim: 18 }, 'head_dim'],
      [{ ...good, eos_token_id: 'x' }, 'eos_token_id'],
    ];
    for (const [json, field] of bad) {
      const error = (() => {
        try {
          parseQwen2Config(json);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });
});
