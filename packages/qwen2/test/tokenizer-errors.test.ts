/**
 * Bad input: missing or malformed tokenizer files and ids outside the vocabulary must each be a
 * TokenizerError that names the file (or id) and says what is wrong.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FastVlmError } from '@fastvlm/tensor';
import { BYTE_TO_CHAR } from '../src/tokenizer/byte-level.js';
import { Tokenizer, TokenizerError, type TokenizerFiles } from '../src/tokenizer/index.js';
import { QWEN2_SPLIT_PATTERN } from '../src/tokenizer/pretokenize.js';

type Json = Record<string, unknown>;

/** vocab: the 256 byte symbols, then 'Ġt' (256) and 'he' (257); merges make those two. */
function byteVocab(): Record<string, number> {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((char, byte) => (vocab[char] = byte));
  vocab['Ġt'] = 256;
  vocab['he'] = 257;
  return vocab;
}
const MERGES = [
  ['Ġ', 't'],
  ['h', 'e'],
];
const ENDOFTEXT = {
  id: 258,
  content: '<|endoftext|>',
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
};

/** A valid small tokenizer.json, with `change` applied to the parsed object. */
function tokenizerJson(change: (json: Json) => void = () => {}): string {
  const json: Json = {
    added_tokens: [ENDOFTEXT],
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab: byteVocab(), merges: MERGES },
  };
  change(json);
  return JSON.stringify(json);
}
const model = (json: Json): Json => json.model as Json;
function renameToken(vocab: Json, from: string, to: string): void {
  vocab[to] = vocab[from];
  delete vocab[from];
}
const preTokenizerSteps = (json: Json): Json[] => (json.pre_tokenizer as { pretokenizers: Json[] }).pretokenizers;

/** Valid vocab.json + merges.txt + tokenizer_config.json files. */
function vocabFiles(): TokenizerFiles {
  return {
    'vocab.json': JSON.stringify(byteVocab()),
    'merges.txt': '#version: 0.2\nĠ t\nh e\n',
    'tokenizer_config.json': JSON.stringify({ added_tokens_decoder: { 258: ENDOFTEXT }, eos_token: '<|endoftext|>' }),
  };
}

function expectTokenizerError(run: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TokenizerError);
  expect(caught).toBeInstanceOf(FastVlmError);
  expect((caught as TokenizerError).code).toBe('TOKENIZER');
  expect((caught as Error).message).toMatch(message);
}

describe('valid small files load', () => {
  it('from tokenizer.json and from vocab.json + merges.txt alike', () => {
    for (const files of [{ 'tokenizer.json': tokenizerJson() }, vocabFiles()]) {
      const tokenizer = Tokenizer.fromFiles(files);
      expect(tokenizer.encode('the<|endoftext|>')).toEqual([0x74, 257, 258]);
      expect(tokenizer.vocabSize).toBe(259);
    }
  });

  it('with a literal String split and a GPT-2 style ByteLevel split', () => {
    // Cut at the literal '- ', so ' t' never meets the 'Ġ t' merge: '- ', 't'.
    const literal = tokenizerJson(
      (j) =>
        (preTokenizerSteps(j)[0] = { type: 'Split', pattern: { String: '- ' }, behavior: 'Isolated', invert: false }),
    );
    expect(Tokenizer.fromFiles({ 'tokenizer.json': literal }).encode('- t')).toEqual([0x2d, 0x20, 0x74]);
    expect(Tokenizer.fromFiles({ 'tokenizer.json': tokenizerJson() }).encode('- t')).toEqual([0x2d, 256]);
    const gpt2 = tokenizerJson(
      (j) => (j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, use_regex: true }),
    );
    expect(Tokenizer.fromFiles({ 'tokenizer.json': gpt2 }).encode(' the')).toEqual([256, 257]);
  });

  it('with added tokens from added_tokens.json, special per tokenizer_config.json', () => {
    const files = vocabFiles();
    files['tokenizer_config.json'] = JSON.stringify({ additional_special_tokens: ['<|a|>'] });
    files['added_tokens.json'] = JSON.stringify({ '<|a|>': 258, '<|b|>': 259 });
    const tokenizer = Tokenizer.fromFiles(files);
    expect(tokenizer.encode('<|a|><|b|>')).toEqual([258, 259]);
    expect([tokenizer.isSpecial(258), tokenizer.isSpecial(259)]).toEqual([true, false]);
  });
});

describe('bad input: tokenizer.json (malformed)', () => {
  const cases: [string, string, RegExp][] = [
    ['text that is not JSON', '{"model": ', /^tokenizer\.json: not valid JSON/],
    ['a JSON array', '[]', /tokenizer\.json: the file must be a JSON object, got an array/],
    ['no model', tokenizerJson((j) => delete j.model), /tokenizer\.json: has no 'model'/],
    [
      'a WordPiece model',
      tokenizerJson((j) => (model(j).type = 'WordPiece')),
      /model\.type: 'WordPiece' is not supported/,
    ],
    [
      'vocab as an array',
      tokenizerJson((j) => (model(j).vocab = [])),
      /model\.vocab must be a JSON object, got an array/,
    ],
    [
      'a negative vocab id',
      tokenizerJson((j) => ((model(j).vocab as Json).he = -1)),
      /model\.vocab entry 'he' must be a non-negative integer id, got number -1/,
    ],
    [
      'a fractional vocab id',
      tokenizerJson((j) => ((model(j).vocab as Json).he = 2.5)),
      /entry 'he' must be a non-negative integer id/,
    ],
    [
      'two tokens with one id',
      tokenizerJson((j) => ((model(j).vocab as Json).he = 256)),
      /tokens 'Ġt' and 'he' share id 256/,
    ],
    [
      'a gap in the ids',
      tokenizerJson((j) => ((model(j).vocab as Json).he = 2 ** 30)),
      /token 'he' has id 1073741824, but 258 tokens must have ids 0\.\.257/,
    ],
    [
      'a byte symbol missing',
      tokenizerJson((j) => renameToken(model(j).vocab as Json, 'Ġ', 'zz')),
      /symbol 'Ġ' for byte 0x20 is not in the vocabulary/,
    ],
    ['merges not an array', tokenizerJson((j) => (model(j).merges = 'Ġ t')), /model\.merges must be an array/],
    [
      'a merge of three parts',
      tokenizerJson((j) => (model(j).merges = ['Ġ t x'])),
      /model\.merges\[0\] must be "left right" or \[left, right\], got string 'Ġ t x'/,
    ],
    ['a merge pair of numbers', tokenizerJson((j) => (model(j).merges = [[1, 2]])), /model\.merges\[0\] must be/],
    [
      'a merge naming an unknown token',
      tokenizerJson(
        (j) =>
          (model(j).merges = [
            ['h', 'e'],
            ['q', 'zz'],
          ]),
      ),
      /merge 1 \('q' 'zz'\) names 'zz', which is not in the vocabulary/,
    ],
    [
      'a merge whose result is unknown',
      tokenizerJson((j) => (model(j).merges = [['x', 'y']])),
      /merge 0 \('x' 'y'\) names 'xy', which is not in the vocabulary/,
    ],
    ['BPE dropout', tokenizerJson((j) => (model(j).dropout = 0.1)), /model\.dropout: BPE dropout is not supported/],
    ['byte fallback', tokenizerJson((j) => (model(j).byte_fallback = true)), /byte fallback is not supported/],
    [
      'a lowercasing normalizer',
      tokenizerJson((j) => (j.normalizer = { type: 'Lowercase' })),
      /normalizer: normalizer 'Lowercase' is not supported/,
    ],
    [
      'a normalizer without a type',
      tokenizerJson((j) => (j.normalizer = {})),
      /normalizer\.type must be a string, got undefined/,
    ],
    [
      'no pre_tokenizer',
      tokenizerJson((j) => (j.pre_tokenizer = null)),
      /pre_tokenizer must be a JSON object, got null/,
    ],
    [
      'a Whitespace pre-tokenizer',
      tokenizerJson((j) => (preTokenizerSteps(j)[0] = { type: 'Whitespace' })),
      /pretokenizers\[0\]: a 'Whitespace' step here .* is not supported/,
    ],
    [
      'ByteLevel not last',
      tokenizerJson((j) => preTokenizerSteps(j).reverse()),
      /pretokenizers\[0\]: a 'ByteLevel' step here/,
    ],
    [
      'a Split that removes',
      tokenizerJson((j) => (preTokenizerSteps(j)[0].behavior = 'Removed')),
      /pretokenizers\[0\]\.behavior: string 'Removed' is not supported/,
    ],
    [
      'a regex JS cannot run',
      tokenizerJson((j) => (preTokenizerSteps(j)[0].pattern = { Regex: '\\p{L}++' })),
      /pattern\.Regex: possessive quantifiers/,
    ],
    [
      'add_prefix_space',
      tokenizerJson((j) => (preTokenizerSteps(j)[1].add_prefix_space = true)),
      /add_prefix_space is not supported/,
    ],
    [
      'a WordPiece decoder',
      tokenizerJson((j) => (j.decoder = { type: 'WordPiece' })),
      /decoder: 'WordPiece' is not supported/,
    ],
    [
      'a template post-processor',
      tokenizerJson((j) => (j.post_processor = { type: 'TemplateProcessing' })),
      /post_processor: 'TemplateProcessing' is not supported/,
    ],
    [
      'added_tokens not an array',
      tokenizerJson((j) => (j.added_tokens = {})),
      /added_tokens must be an array, got an object/,
    ],
    [
      'an added token without id',
      tokenizerJson((j) => (j.added_tokens = [{ content: 'x' }])),
      /added_tokens\[0\]\.id must be a non-negative integer id, got undefined/,
    ],
    [
      'an added token with special "yes"',
      tokenizerJson((j) => (j.added_tokens = [{ ...ENDOFTEXT, special: 'yes' }])),
      /added_tokens\[0\]\.special must be true or false/,
    ],
    [
      'an added token with empty content',
      tokenizerJson((j) => (j.added_tokens = [{ ...ENDOFTEXT, content: '' }])),
      /added token 258 has empty content/,
    ],
    [
      'an added token on a vocabulary id',
      tokenizerJson((j) => (j.added_tokens = [{ ...ENDOFTEXT, id: 257 }])),
      /added token '<\|endoftext\|>' \(id 257\): the vocabulary gives id 257 to 'he'/,
    ],
    [
      'an added token past a gap',
      tokenizerJson((j) => (j.added_tokens = [{ ...ENDOFTEXT, id: 300 }])),
      /added token '<\|endoftext\|>' \(id 300\): expected id 258/,
    ],
    [
      'an added token twice',
      tokenizerJson((j) => (j.added_tokens = [ENDOFTEXT, { ...ENDOFTEXT, id: 259 }])),
      /added token '<\|endoftext\|>' appears twice, with ids 258 and 259/,
    ],
  ];
  it.each(cases)('refuses %s', (_, text, message) => {
    expectTokenizerError(() => Tokenizer.fromFiles({ 'tokenizer.json': text }), message);
  });
});

describe('bad input: tokenizer vocabulary files (malformed vocab.json / merges.txt / tokenizer_config.json / added_tokens.json)', () => {
  const cases: [string, Partial<TokenizerFiles>, RegExp][] = [
    [
      'vocab.json without merges.txt',
      { 'merges.txt': undefined },
      /^merges\.txt: is missing: without tokenizer\.json, both vocab\.json and merges\.txt are needed/,
    ],
    ['merges.txt without vocab.json', { 'vocab.json': undefined }, /^vocab\.json: is missing/],
    [
      'neither',
      { 'vocab.json': undefined, 'merges.txt': undefined },
      /tokenizer files: holds neither tokenizer\.json nor vocab\.json \+ merges\.txt/,
    ],
    ['vocab.json that is not JSON', { 'vocab.json': '{' }, /^vocab\.json: not valid JSON/],
    [
      'vocab.json with a string id',
      { 'vocab.json': JSON.stringify({ ...byteVocab(), he: '257' }) },
      /vocab\.json: the vocabulary entry 'he' must be a non-negative integer id, got string '257'/,
    ],
    [
      'a merges.txt line of one token',
      { 'merges.txt': '#version: 0.2\nĠ t\nhe\n' },
      /merges\.txt: line 3: expected two tokens separated by one space, got string 'he'/,
    ],
    ['a merges.txt line with two spaces', { 'merges.txt': 'Ġ  t\n' }, /merges\.txt: line 1: expected two tokens/],
    [
      'merges.txt naming an unknown token',
      { 'merges.txt': 'Ġ t\nq zz\n' },
      /^merges\.txt: merge 1 \('q' 'zz'\) names 'zz', which is not in the vocabulary/,
    ],
    [
      'tokenizer_config.json that is not JSON',
      { 'tokenizer_config.json': 'nope' },
      /^tokenizer_config\.json: not valid JSON/,
    ],
    [
      'added_tokens_decoder with a non-id key',
      { 'tokenizer_config.json': JSON.stringify({ added_tokens_decoder: { x: ENDOFTEXT } }) },
      /added_tokens_decoder\['x'\]: the key must be a token id/,
    ],
    [
      'an added token without content',
      { 'tokenizer_config.json': JSON.stringify({ added_tokens_decoder: { 258: { special: true } } }) },
      /added_tokens_decoder\['258'\]\.content must be a string, got undefined/,
    ],
    [
      'added_tokens.json disagreeing with the config',
      { 'added_tokens.json': JSON.stringify({ '<|other|>': 258 }) },
      /^added_tokens\.json: '<\|other\|>' has id 258, which tokenizer_config\.json gives to '<\|endoftext\|>'/,
    ],
    [
      'added_tokens.json with a bad id',
      { 'added_tokens.json': JSON.stringify({ '<|x|>': 'a' }) },
      /added_tokens\.json: '<\|x\|>' must be a non-negative integer id/,
    ],
  ];
  it.each(cases)('refuses %s', (_, change, message) => {
    expectTokenizerError(() => Tokenizer.fromFiles({ ...vocabFiles(), ...change }), message);
  });
});

describe('bad input: tokenizer folders', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-tokenizer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads tokenizer.json, or else vocab.json + merges.txt + tokenizer_config.json', async () => {
    await writeFile(join(dir, 'tokenizer.json'), tokenizerJson());
    expect((await Tokenizer.fromFolder(dir)).encode('the')).toEqual([0x74, 257]);
    await rm(join(dir, 'tokenizer.json'));
    for (const [name, text] of Object.entries(vocabFiles())) await writeFile(join(dir, name), text as string);
    expect((await Tokenizer.fromFolder(dir)).encode('the<|endoftext|>')).toEqual([0x74, 257, 258]);
  });

  it('names the folder when it is missing, not a folder, or empty', async () => {
    const missing = join(dir, 'nope');
    await expect(Tokenizer.fromFolder(missing)).rejects.toThrow(new RegExp(`^${missing}: no such folder`));
    await writeFile(join(dir, 'file'), 'x');
    await expect(Tokenizer.fromFolder(join(dir, 'file'))).rejects.toThrow(/file: is not a folder/);
    await expect(Tokenizer.fromFolder(dir)).rejects.toThrow(
      new RegExp(`^${dir}: holds neither tokenizer\\.json nor vocab\\.json \\+ merges\\.txt`),
    );
    await expect(Tokenizer.fromFolder(dir)).rejects.toBeInstanceOf(TokenizerError);
  });

  it('names the file by its path when it is missing or malformed', async () => {
    await writeFile(join(dir, 'vocab.json'), JSON.stringify(byteVocab()));
    await expect(Tokenizer.fromFolder(dir)).rejects.toThrow(`${join(dir, 'merges.txt')}: is missing`);
    await writeFile(join(dir, 'tokenizer.json'), Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]));
    await expect(Tokenizer.fromFolder(dir)).rejects.toThrow(`${join(dir, 'tokenizer.json')}: is not valid UTF-8`);
    await rm(join(dir, 'tokenizer.json'));
    await mkdir(join(dir, 'tokenizer.json'));
    await expect(Tokenizer.fromFolder(dir)).rejects.toThrow(
      `${join(dir, 'tokenizer.json')}: is not a regular file: it is a folder`,
    );
  });
});

describe('bad input: token ids (outside the vocabulary)', () => {
  const tokenizer = Tokenizer.fromFiles({ 'tokenizer.json': tokenizerJson() });
  it.each([259, -1, 1.5, Number.NaN, 2 ** 40])('decode refuses id %s', (id) => {
    expectTokenizerError(
      () => tokenizer.decode([0x68, id]),
      new RegExp(`^id ${String(id).replace('.', '\\.')} is not in the vocabulary \\(ids run 0\\.\\.258\\)`),
    );
    expectTokenizerError(() => tokenizer.createStreamDecoder().push(id), /is not in the vocabulary/);
  });
});
