import { FastVlmError, ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/sampling/rng.js';
import {
  drawToken,
  MAX_TEMPERATURE,
  MIN_TEMPERATURE,
  NonFiniteLogitsError,
  sample,
  samplingDistribution,
  SamplingError,
  type SamplingOptions,
  type TokenDistribution,
} from '../src/sampling/sampling.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

/** Where each fixture case's distribution must come from with the default 4096 candidates. */
const EXPECTED_SOURCE: Record<string, TokenDistribution['source']> = {
  'sampling.lm_t07_p09': 'candidates',
  'sampling.lm_t1_k50_p095': 'candidates',
  'sampling.lm_t02': 'full', // no filter: the distribution is over all V tokens
  'sampling.lm_t1': 'full',
  'sampling.flat_t1_p09': 'full', // top-p 0.9 of a flat distribution keeps ~10^5 tokens
  'sampling.flat_t06_k40': 'candidates',
};

function dense(distribution: TokenDistribution, vocab: number): Float32Array {
  const out = new Float32Array(vocab);
  distribution.ids.forEach((id, i) => (out[id] = distribution.probs[i]));
  return out;
}

function optionsOf(params: Record<string, unknown>): SamplingOptions {
  return { temperature: params.temperature as number, topK: params.topK as number, topP: params.topP as number };
}

describe('sampling vs transformers logits warpers', async () => {
  const suite = await paritySuite('llm_plumbing');
  const { fixture } = suite;
  const cases = fixture.cases((x) => x.op === 'sampling');

  async function logitsOf(caseName: string): Promise<Tensor<'f32'>> {
    const { data, shape } = await fixture.get(caseName, 'logits');
    return Tensor.fromArray(suite.device, data, shape, 'f32');
  }

  for (const c of cases) {
    for (const maxCandidates of [undefined, 64]) {
      it(`${c.name}${maxCandidates ? ` with ${maxCandidates} candidates` : ''}`, async () => {
        const expected = await fixture.get(c.name, 'probs');
        const distribution = await suite.device.scopeAsync(async () =>
          samplingDistribution(await logitsOf(c.name), { ...optionsOf(c), maxCandidates }),
        );
        if (maxCandidates === undefined) expect(distribution.source).toBe(EXPECTED_SOURCE[c.name] ?? 'candidates');
        expectClose(dense(distribution, expected.data.length), expected.data, TOLERANCE.samplingProbabilities, c.name);
      });
    }
  }

  it('draws what the distribution says, the same token for the same seed', async () => {
    await suite.device.scopeAsync(async () => {
      for (const name of ['sampling.lm_t1_k50_p095', 'sampling.lm_t07_p09', 'sampling.lm_t02', 'sampling.odd_t13']) {
        const logits = await logitsOf(name);
        const options = optionsOf(fixture.allCases.find((c) => c.name === name) ?? {});
        const distribution = await samplingDistribution(logits, options);
        const drawn = new Set<number>();
        for (let seed = 1; seed <= 12; seed++) {
          const token = await sample(logits, { ...options, seed });
          expect(await sample(logits, { ...options, seed }), `${name} seed ${seed}`).toBe(token);
          expect(token, `${name} seed ${seed}`).toBe(drawToken(distribution, new SeededRandom(seed)));
          drawn.add(token);
        }
        if (name !== 'sampling.lm_t02') expect(drawn.size, name).toBeGreaterThan(1); // T = 0.2 is near-greedy
        // A generator carried across steps gives a reproducible sequence.
        const run = async (rng: SeededRandom): Promise<number[]> => {
          const tokens = [];
          for (let step = 0; step < 6; step++) tokens.push(await sample(logits, { ...options, rng }));
          return tokens;
        };
        expect(await run(new SeededRandom(99))).toEqual(await run(new SeededRandom(99)));
      }
    });
  });

  it('falls back to all logits when the draw lands past the candidates', async () => {
    await suite.device.scopeAsync(async () => {
      const logits = await logitsOf('sampling.odd_t13');
      const options = optionsOf(fixture.allCases.find((c) => c.name === 'sampling.odd_t13') ?? {});
      const distribution = await samplingDistribution(logits, options);
      const tail = new Set(distribution.ids.slice(4));
      let tailDraws = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const token = await sample(logits, { ...options, seed, maxCandidates: 4 }); // most draws land past 4 candidates
        expect(token, `seed ${seed}`).toBe(drawToken(distribution, new SeededRandom(seed)));
        if (tail.has(token)) tailDraws++;
      }
      expect(tailDraws).toBeGreaterThan(5);
    });
  });

  it('is greedy at temperature 0', async () => {
    const { data } = await fixture.get('sampling.flat_t1_p09', 'logits');
    const best = data.reduce((b, v, i) => (v > data[b] ? i : b), 0);
    const token = await suite.device.scopeAsync(async () =>
      sample(await logitsOf('sampling.flat_t1_p09'), { temperature: 0, topP: 0.5, seed: 3 }),
    );
    expect(token).toBe(best);
  });

  it('matches the probabilities over 20000 seeded draws (chi-square)', async () => {
    const logits = [0, 1, 2, 0.5, -1, 3, -0.25, 1.5];
    const options = { temperature: 0.9, topP: 0.95 };
    const distribution = await suite.device.scopeAsync(async () =>
      samplingDistribution(Tensor.fromArray(suite.device, logits, [logits.length], 'f32'), options),
    );
    expect(Array.from(distribution.ids)).toEqual([5, 2, 7, 1, 3]); // top-p removed the three least likely
    const counts = new Map<number, number>();
    const rng = new SeededRandom(2024);
    const draws = 20000;
    for (let i = 0; i < draws; i++) {
      const token = drawToken(distribution, rng);
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    let chiSquare = 0;
    distribution.ids.forEach((id, i) => {
      const expected = distribution.probs[i] * draws;
      chiSquare += ((counts.get(id) ?? 0) - expected) ** 2 / expected;
    });
    expect(counts.size).toBe(distribution.ids.length); // filtered tokens are never drawn
    expect(chiSquare).toBeLessThan(18.5); // 4 degrees of freedom: p = 0.001
  });

  it('rejects bad options with a typed error', async () => {
    await suite.device.scopeAsync(async () => {
      const logits = Tensor.fromArray(suite.device, [1, 2, 3], [3], 'f32');
      const bad: SamplingOptions[] = [
        { temperature: -0.5 },
        { temperature: NaN },
        { temperature: Infinity },
        { temperature: 1, topP: 0 },
        { temperature: 1, topP: 1.5 },
        { temperature: 1, topP: NaN },
        { temperature: 1, topK: -1 },
        { temperature: 1, topK: 2.5 },
        { temperature: 1, seed: NaN },
        { temperature: 1, maxCandidates: 0 },
      ];
      for (const options of bad) {
        await expect(sample(logits, options), JSON.stringify(options)).rejects.toThrow(SamplingError);
      }
      await expect(sample(logits, { temperature: 1, topK: -1 })).rejects.toThrow(FastVlmError);
      await expect(samplingDistribution(logits, { temperature: 0 })).rejects.toThrow(/greedy/);
      await expect(sample(Tensor.zeros(suite.device, [2, 3], 'f32'), { temperature: 1 })).rejects.toThrow(ShapeError);
      await expect(
        sample(Tensor.zeros(suite.device, [3], 'f16') as unknown as Tensor<'f32'>, { temperature: 1 }),
      ).rejects.toThrow(ShapeError);
    });
  });

  describe('bad input: non-finite numbers', () => {
    it('logits holding a NaN or an infinity are a NonFiniteLogitsError, greedy or sampled, on either readback path', async () => {
      await suite.device.scopeAsync(async () => {
        const vocab = 3000;
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of [0, 1234, vocab - 1]) {
            const values = Array.from({ length: vocab }, (_, i) => Math.cos(i) * 4);
            values[at] = bad;
            const logits = Tensor.fromArray(suite.device, values, [vocab], 'f32');
            const what = `${bad} at ${at}`;
            for (const options of [
              { temperature: 0 },
              { temperature: 0.7, seed: 1 },
              { temperature: 1, topK: 20, seed: 2 },
              { temperature: 1.3, topP: 0.9, seed: 3 },
              { temperature: 1, maxCandidates: 1, seed: 4 }, // a candidate set too small: the full readback
            ]) {
              await expect(sample(logits, options), `${what} ${JSON.stringify(options)}`).rejects.toThrow(
                NonFiniteLogitsError,
              );
            }
            await expect(samplingDistribution(logits, { temperature: 1 }), what).rejects.toThrow(NonFiniteLogitsError);
          }
        }
      });
    });
  });

  describe('bad input: non-finite numbers', () => {
    it('temperatures that would overflow f32 are refused up front; the extremes allowed still sample', async () => {
      await suite.device.scopeAsync(async () => {
        const logits = Tensor.fromArray(suite.device, [1, 2, 3.5, 3, -2], [5], 'f32');
        for (const temperature of [1e-45, 5e-324, 1e-31, 1e-38, 1e31, 3.4e38, 1e300, -1e-45, NaN, -Infinity]) {
          await expect(sample(logits, { temperature }), String(temperature)).rejects.toThrow(/temperature must be 0/);
        }
        for (const options of [
          { temperature: 1, topP: NaN },
          { temperature: 1, topP: -Infinity },
          { temperature: 1, topK: 0.5 },
          { temperature: 1, topK: Infinity },
          { temperature: 1, topK: NaN },
          { temperature: 1, seed: Infinity },
        ]) {
          await expect(sample(logits, options), JSON.stringify(options)).rejects.toThrow(SamplingError);
        }
        // MIN_TEMPERATURE is greedy in effect; MAX_TEMPERATURE is uniform in effect: both give a token.
        for (let seed = 0; seed < 5; seed++)
          expect(await sample(logits, { temperature: MIN_TEMPERATURE, seed })).toBe(2);
        const drawn = new Set<number>();
        for (let seed = 0; seed < 40; seed++) drawn.add(await sample(logits, { temperature: MAX_TEMPERATURE, seed }));
        expect(drawn.size).toBe(5);
      });
    });
  });

  it('seeds reproducible generators', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const first = Array.from({ length: 1000 }, () => a.nextFloat());
    expect(Array.from({ length: 1000 }, () => b.nextFloat())).toEqual(first);
    expect(Array.from({ length: 1000 }, () => c.nextFloat())).not.toEqual(first);
    expect(first.every((u) => u >= 0 && u < 1)).toBe(true);
    const mean = first.reduce((s, u) => s + u, 0) / first.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});
