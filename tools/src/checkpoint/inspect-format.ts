/** An InspectReport as the text `fastvlm inspect` prints. */
import { formatBytes } from '../format-bytes.js';
import { describeLmHead } from '@fastvlm/qwen2';
import type { InspectReport } from './inspect.js';
import type { ModelSummary } from './inspect-model.js';

/** Problems listed per kind before the rest is counted. */
const LIST_LIMIT = 20;

const formatSize = (bytes: number): string => formatBytes(bytes, { digits: 2 });

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function listed<T>(title: string, items: readonly T[], line: (item: T) => string): string[] {
  if (items.length === 0) return [];
  const lines = [`  ${title} (${items.length}):`, ...items.slice(0, LIST_LIMIT).map((item) => `    ${line(item)}`)];
  if (items.length > LIST_LIMIT) lines.push(`    ... and ${items.length - LIST_LIMIT} more`);
  return lines;
}

/** Right-aligned columns but the first, two spaces apart, each line indented by two. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map(
    (row) => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')}`,
  );
}

/** The model lines: its name, parameters, stored dtype, LM head and weight memory per --dtype. */
function modelLines(model: ModelSummary, report: InspectReport): string[] {
  const { identity } = model;
  const name =
    identity.name !== 'custom'
      ? identity.name
      : identity.widthsOf === undefined
        ? 'custom (widths of no published FastVLM)'
        : `custom (${identity.widthsOf}'s widths; ${identity.differences.join('; ')})`;
  const storedElements = report.groups.reduce((sum, g) => sum + g.elements, 0);
  const dtypes = Object.entries(report.storedDtypes).map(([dtype, n]) =>
    Object.keys(report.storedDtypes).length === 1 ? dtype : `${dtype} ${n}`,
  );
  const lines = [
    `model: ${name}`,
    `parameters: ${formatCount(model.parameters)} in use (${model.parameters.toLocaleString('en-US')}); ` +
      `${formatCount(storedElements)} elements stored`,
    `stored dtype: ${dtypes.join(', ') || '-'} (config.json torch_dtype ${report.config.torchDtype ?? '(not given)'}); ` +
      'converted to --dtype at load, one tensor at a time',
    `lm_head: ${describeLmHead(model.lmHead)}`,
    'memory of the weights as loaded, per --dtype (the tower in f16, f32 with --dtype f32):',
  ];
  const rows = [['--dtype', 'vision tower', 'projector', 'llm', 'total']];
  for (const m of model.memory)
    rows.push([
      m.dtype,
      formatSize(m.parts.vision),
      formatSize(m.parts.projector),
      formatSize(m.parts.llm),
      formatSize(m.weightBytes),
    ]);
  lines.push(...table(rows));
  lines.push(
    `  + KV cache ${formatSize(model.kvCacheBytesPerToken)} a token of context (f32), ${formatSize(1000 * model.kvCacheBytesPerToken)} per 1000 tokens`,
  );
  return lines;
}

export function formatInspectReport(report: InspectReport): string {
  const { config } = report;
  const llm = config.llm;
  const lines = [
    `FastVLM model folder ${report.dir}`,
    `config: Qwen2 ${llm.numHiddenLayers} layers, hidden ${llm.hiddenSize}, ${llm.numAttentionHeads} heads (${llm.numKeyValueHeads} KV, head dim ${llm.headDim}), ` +
      `MLP ${llm.intermediateSize}, vocab ${llm.vocabSize}, ${llm.tieWordEmbeddings ? 'tied' : 'separate'} lm_head, torch_dtype ${config.torchDtype ?? '(not given)'}`,
    `        tower ${config.visionTower} (${config.imageSize} px, ${config.imageTokens} image tokens), projector ${config.projectorType} ` +
      `${config.mmHiddenSize} -> ${llm.hiddenSize}, image_aspect_ratio ${config.imageAspectRatio}`,
    ...modelLines(report.model, report),
    `checkpoint: ${report.files.map((f) => `${f.file} (${formatSize(f.bytes)})`).join(', ')}${report.sharded ? ' [sharded]' : ''}, ${report.tensors.length} tensors`,
  ];
  const rows = report.groups.map((g) => [
    g.group,
    String(g.tensors),
    formatCount(g.elements),
    formatSize(g.bytes),
    Object.entries(g.dtypes)
      .map(([dtype, n]) => `${dtype} ${n}`)
      .join(', ') || '-',
  ]);
  const total = report.groups.reduce(
    (sum, g) => ({ tensors: sum.tensors + g.tensors, elements: sum.elements + g.elements, bytes: sum.bytes + g.bytes }),
    { tensors: 0, elements: 0, bytes: 0 },
  );
  rows.push(['total', String(total.tensors), formatCount(total.elements), formatSize(total.bytes), '']);
  const header = ['group', 'tensors', 'elements', 'size', 'dtypes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) {
    lines.push(
      `  ${row.map((cell, i) => (i === 0 || i === 4 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')}`.trimEnd(),
    );
  }

  const expectedCount = report.tensors.length - report.unexpected.length + report.missing.length;
  if (report.complete) {
    lines.push(`complete: yes, all ${expectedCount} expected tensors with their shapes`);
  } else {
    lines.push(
      `complete: NO: ${report.missing.length} missing, ${report.unexpected.length} unexpected, ${report.wrongShape.length} wrong shape, ` +
        `${report.wrongDtype.length} wrong dtype (of ${expectedCount} expected)`,
    );
    lines.push(...listed('missing', report.missing, (t) => `${t.name} ${shapeText(t.shape)}`));
    lines.push(...listed('unexpected', report.unexpected, (t) => `${t.name} ${t.dtype} ${shapeText(t.shape)}`));
    lines.push(
      ...listed(
        'wrong shape',
        report.wrongShape,
        (m) => `${m.name}: ${shapeText(m.actual)}, expected ${shapeText(m.expected)}`,
      ),
    );
    lines.push(...listed('wrong dtype', report.wrongDtype, (m) => `${m.name}: ${m.actual}, expected ${m.expected}`));
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  const tokenizer = report.tokenizerFiles.length === 0 ? 'no tokenizer files' : report.tokenizerFiles.join(', ');
  lines.push(
    `tokenizer: ${tokenizer}${report.tokenizerUsable ? '' : ' (not enough to load a tokenizer: need tokenizer.json, or vocab.json + merges.txt)'}`,
  );
  return `${lines.join('\n')}\n`;
}
