"""Checkpoint files as transformers 4.39's save_pretrained writes them, streamed tensor by tensor.

- `plan_shards`: the split of a state_dict (in module order) into shards: a new shard opens when the
  next tensor would take the current one past `max_shard_bytes` (5 GB = 5e9 bytes by default), as
  `shard_checkpoint` does. One shard is `model.safetensors`; more are
  `model-0000i-of-0000n.safetensors` with `model.safetensors.index.json` (sorted keys, indent 2).
- `safetensors_order`: where each tensor sits inside its file: safetensors' `save_file` (which
  save_pretrained calls per shard) lays tensors out by dtype, widest first (I64 before F32 before
  BF16 / F16), then by name; the header lists them in that order.
- `write_checkpoint`: writes the files from an iterator of (name, tensor) in module order, one tensor
  in memory at a time: each shard's header is known up front from the shapes, so each tensor is
  written at its offset as it comes (no whole-model or whole-shard buffer).

safetensors layout: u64 little-endian header length, the JSON header (names -> dtype, shape,
data_offsets [begin, end) relative to the data), padded with spaces to a multiple of 8, then the
tensors' bytes back to back.
"""
import json
import math
import pathlib
import struct

import torch

APPLE_MAX_SHARD_BYTES = 5_000_000_000  # transformers 4.39's default max_shard_size "5GB"
SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
INDEX_NAME = "model.safetensors.index.json"


def stored_dtype(dtype, float_dtype):
    """Float tensors are stored as `float_dtype`, integer ones (num_batches_tracked) as they are."""
    return float_dtype if dtype.is_floating_point else dtype


def tensor_bytes(shape, dtype):
    return math.prod(shape) * torch.empty((), dtype=dtype).element_size()


def plan_shards(layout, max_shard_bytes=APPLE_MAX_SHARD_BYTES):
    """layout: [(name, shape, dtype)] in module order -> [[(name, shape, dtype)], ...] per shard."""
    shards, size = [[]], 0
    for name, shape, dtype in layout:
        nbytes = tensor_bytes(shape, dtype)
        if size + nbytes > max_shard_bytes and shards[-1]:
            shards.append([])
            size = 0
        shards[-1].append((name, shape, dtype))
        size += nbytes
    return shards


# safetensors' Dtype enum order (its sort key, descending): the dtypes our checkpoints hold.
_DTYPE_RANK = {torch.int64: 4, torch.float32: 3, torch.bfloat16: 2, torch.float16: 1}


def safetensors_order(entries):
    """entries: [(name, shape, dtype)] -> the same, in the order safetensors' save_file stores them
    (dtype descending in its enum order, then name by bytes)."""
    return sorted(entries, key=lambda e: (-_DTYPE_RANK[e[2]], e[0].encode()))


def shard_file_names(count):
    if count == 1:
        return ["model.safetensors"]
    return [f"model-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]


def safetensors_header(entries, metadata=None):
    """entries: [(name, shape, dtype)] in file order -> the header bytes (length prefix included)."""
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for name, shape, dtype in entries:
        nbytes = tensor_bytes(shape, dtype)
        header[name] = {"dtype": SAFETENSORS_DTYPES[dtype], "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def index_text(layout, shards, names):
    """model.safetensors.index.json as save_pretrained writes it (sorted keys, indent 2)."""
    weight_map = {name: file_name for shard, file_name in zip(shards, names) for name, _, _ in shard}
    total = sum(tensor_bytes(shape, dtype) for name, shape, dtype in layout)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    return json.dumps(index, indent=2, sort_keys=True) + "\n"


def write_checkpoint(folder, layout, tensors, max_shard_bytes=APPLE_MAX_SHARD_BYTES):
    """Writes the checkpoint files of `layout` ([(name, shape, stored dtype)] in module order) with the
    values `tensors` yields as (name, tensor) in the same order (any float dtype: converted here),
    each file's tensors in safetensors' order. Returns the file names written (the index first when
    sharded)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shards = plan_shards(layout, max_shard_bytes)
    names = shard_file_names(len(shards))
    stream = iter(tensors)
    for shard, file_name in zip(shards, names):
        path = folder / file_name
        stored = safetensors_order(shard)
        header = safetensors_header(stored, {"format": "pt"})
        offsets, offset = {}, len(header)
        for name, shape, dtype in stored:
            offsets[name] = offset
            offset += tensor_bytes(shape, dtype)
        with open(path, "wb") as out:
            out.write(header)
            for name, shape, dtype in shard:
                got_name, value = next(stream)
                if got_name != name or tuple(value.shape) != tuple(shape):
                    raise ValueError(f"expected {name} {list(shape)}, got {got_name} {list(value.shape)}")
                data = value.detach().to(dtype).contiguous()
                out.seek(offsets[name])
                out.write(data.reshape(-1).view(torch.uint8).numpy().tobytes())
        path.chmod(0o644)
    if next(stream, None) is not None:
        raise ValueError("more tensors than the layout holds")
    if len(shards) == 1:
        return names
    (folder / INDEX_NAME).write_text(index_text(layout, shards, names))
    return [INDEX_NAME, *names]


def checkpoint_files(folder):
    """The safetensors files of a folder: the index's shards, or model.safetensors."""
    folder = pathlib.Path(folder)
    index = folder / INDEX_NAME
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        return [folder / name for name in sorted(set(weight_map.values()))]
    return [folder / "model.safetensors"]
