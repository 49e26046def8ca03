/** Model folders made broken on purpose from the fixture folder, in a temporary directory. */
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

type Header = Record<
  string,
  { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
>;

async function readHeader(path: string): Promise<{ header: Header; dataStart: number }> {
  const file = await open(path, 'r');
  try {
    const length = Buffer.alloc(8);
    await file.read(length, 0, 8, 0);
    const size = Number(length.readBigUInt64LE());
    const json = Buffer.alloc(size);
    await file.read(json, 0, size, 8);
    return { header: JSON.parse(json.toString('utf8')) as Header, dataStart: 8 + size };
  } finally {
    await file.close();
  }
}

/** A folder whose model.safetensors lacks the tensor stored last (its bytes cut off); returns the folder and that tensor's name. */
export async function folderWithoutATensor(source: string): Promise<{ folder: string; removed: string }> {
  const folder = await mkdtemp(join(tmpdir(), 'fastvlm-incomplete-'));
  const path = join(source, 'model.safetensors');
  const { header, dataStart } = await readHeader(path);
  let removed = '';
  let removedStart = -1;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || !('data_offsets' in entry)) continue;
    const offsets = entry.data_offsets as [number, number];
    if (offsets[0] > removedStart) [removed, removedStart] = [name, offsets[0]];
  }
  delete header[removed];
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const target = join(folder, 'model.safetensors');
  await writeFile(target, Buffer.concat([length, Buffer.from(json, 'utf8')]));
  if (removedStart > 0)
    await pipeline(
      createReadStream(path, { start: dataStart, end: dataStart + removedStart - 1 }),
      createWriteStream(target, { flags: 'a' }),
    );
  await copyFile(join(source, 'config.json'), join(folder, 'config.json'));
  await symlink(join(source, 'tokenizer.json'), join(folder, 'tokenizer.json'));
  return { folder, removed };
}

/** The fixture's weights with a config.json edited by `edit` (e.g. a width the tensors do not have). */
export async function folderWithConfig(
  source: string,
  edit: (config: Record<string, unknown>) => void,
): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'fastvlm-config-'));
  const config = JSON.parse(await readFile(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(join(folder, 'config.json'), JSON.stringify(config));
  await symlink(join(source, 'model.safetensors'), join(folder, 'model.safetensors'));
  await symlink(join(source, 'tokenizer.json'), join(folder, 'tokenizer.json'));
  return folder;
}
