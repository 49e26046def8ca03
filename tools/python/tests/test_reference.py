"""Checks of the PyTorch FastVLM reference (no pytest: a plain script).

    python tools/python/tests/test_reference.py [--skip-timm] [--full]

--full adds the random 0.5b model (all 24 layers) at 1024 px: per-stage activation stds (minutes).
Reads Apple's tensor list committed beside the llava tests; the photos are photo_like.py's.
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import time
import traceback

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parents[1]
TENSOR_LIST = REPO / "packages" / "llava" / "test" / "apple-fastvlm-0.5b-tensors.txt"
sys.path.insert(0, str(PYTHON_DIR))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors import safe_open  # noqa: E402

from fastvlm_reference import FastVLM, load_model, make_config, preprocess, save_model  # noqa: E402
from fastvlm_reference.checkpoint import checkpoint_layout, read_tensors, resolve_head  # noqa: E402
from fastvlm_reference.fastvithd import FastViTHD  # noqa: E402
from fastvlm_reference.shards import plan_shards, tensor_bytes  # noqa: E402
from init_random_checkpoint import build_random, write_random  # noqa: E402
from photo_like import fixture_photos  # noqa: E402

PHOTO_DIR = pathlib.Path(tempfile.mkdtemp(prefix="fastvlm-photos-"))
for _name, _data in fixture_photos().items():
    (PHOTO_DIR / _name).write_bytes(_data)
IMAGES = sorted(PHOTO_DIR.glob("*.jpg"))

TOWER = "model.vision_tower.vision_tower.model."
PROMPT = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, -200, 198,
          74785, 279, 2168, 13, 151645, 198, 151644, 77091, 198]  # spec §5
DTYPE_NAMES = {torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}
_tiny = {}


def read_tensor_list():
    table = {}
    for line in TENSOR_LIST.read_text().splitlines():
        if line and not line.startswith("#"):
            name, dtype, shape = line.split("\t")
            table[name] = (dtype, json.loads(shape))
    return table


def layout(state_dict, dtype=torch.float16):
    """name -> (dtype as the file stores it, shape) for a state_dict written in `dtype`."""
    return {name: (DTYPE_NAMES[dtype if t.is_floating_point() else t.dtype], list(t.shape))
            for name, t in state_dict.items()}


def tiny():
    """The tiny preset, built once: model, pixels, embeds, logits."""
    if not _tiny:
        model = build_random("tiny", seed=1)
        pixels = preprocess(IMAGES[0], model.image_size)
        stages = {}
        features = model.encode_image(pixels, stages)
        embeds = model.build_inputs_embeds(PROMPT, model.project(features))
        _tiny.update(model=model, pixels=pixels, stages=stages, features=features, embeds=embeds,
                     logits=model.forward_logits(embeds))
    return _tiny


def test_state_dict_matches_tensor_list():
    expected = read_tensor_list()
    assert len(expected) == 923, len(expected)
    with torch.device("meta"):  # shapes only: nothing allocated
        model = FastVLM(make_config("0.5b"))
    ours = layout(model.state_dict())
    missing, extra = sorted(set(expected) - set(ours)), sorted(set(ours) - set(expected))
    assert not missing and not extra, f"missing {missing[:5]}, extra {extra[:5]}"
    wrong = [(n, ours[n], expected[n]) for n in expected if ours[n] != expected[n]]
    assert not wrong, wrong[:5]
    assert "lm_head.weight" not in ours  # tied in FastVLM-0.5B
    tower = {n[len(TOWER):]: v for n, v in expected.items() if n.startswith(TOWER)}
    assert layout(FastViTHD(1024).to("meta").state_dict()) == tower
    print(f"    {len(ours)} tensors: names, shapes and dtypes equal the list ({len(tower)} in the tower)")


def test_layers_override_and_untied_head():
    expected = read_tensor_list()
    with torch.device("meta"):
        model = FastVLM(make_config("0.5b", layers=2))
        untied = FastVLM(dict(make_config("0.5b", layers=1), tie_word_embeddings=False))
    kept = {n: v for n, v in expected.items() if not n.startswith("model.layers.") or int(n.split(".")[2]) < 2}
    assert layout(model.state_dict()) == kept
    assert layout(untied.state_dict())["lm_head.weight"] == ("F16", [151936, 896])


def test_tiny_forward():
    t = tiny()
    model = t["model"]
    assert t["pixels"].shape == (1, 3, 256, 256)
    assert t["features"].shape == (1, 16, 3072)
    assert t["embeds"].shape == (1, len(PROMPT) - 1 + 16, 64)
    assert t["logits"].shape == (1, len(PROMPT) - 1 + 16, 151936)
    for name, value in [*t["stages"].items(), ("embeds", t["embeds"]), ("logits", t["logits"])]:
        assert torch.isfinite(value).all(), name
        std = value.std().item()
        assert 1e-2 < std < 1e2, f"{name}: std {std}"
    print("    activation std (tiny, 256 px, " + IMAGES[0].name + "): " +
          " ".join(f"{k}={v.std().item():.2f}" for k, v in t["stages"].items()) +
          f" embeds={t['embeds'].std().item():.2f} logits={t['logits'].std().item():.2f}")
    # the image rows of the embeds are the projector's output, in place of the -200
    at = PROMPT.index(-200)
    assert torch.equal(t["embeds"][0, at:at + 16], model.project(t["features"])[0])
    assert torch.equal(t["embeds"][0, at + 16], model.model.embed_tokens.weight[PROMPT[at + 1]])


def test_greedy_generate_matches_full_forward():
    """The KV-cache loop picks what a full re-run over prompt + generated tokens picks."""
    t = tiny()
    model = t["model"]
    tokens = model.greedy_generate(t["embeds"], max_new_tokens=6)
    assert 1 <= len(tokens) <= 6
    embeds = torch.cat([t["embeds"], model.model.embed_tokens.weight[tokens][None]], 1)
    full = model.forward_logits(embeds)[0, t["embeds"].shape[1] - 1:-1].argmax(-1).tolist()
    assert full == tokens, (full, tokens)
    print(f"    greedy: {tokens}")


def test_random_init_is_not_trivial():
    state = tiny()["model"].state_dict()
    for name, t in state.items():
        if name.endswith("running_var"):
            assert 0.5 <= t.min() and t.max() <= 2.0, name
        elif "layer_scale" in name:
            assert 0.09 <= t.min() and t.max() <= 0.41, name
        elif t.is_floating_point():
            assert t.abs().max() > 0 and t.std() > 0, f"{name} is constant"


def test_preprocess_images():
    made = tempfile.mkdtemp()
    rgba = Image.new("RGBA", (37, 90), (200, 10, 10, 0))
    palette = Image.new("P", (64, 31))
    palette.info["transparency"] = 0
    gray = Image.fromarray(np.arange(50 * 70, dtype=np.uint8).reshape(50, 70) % 251, "L")
    deep = Image.fromarray(np.arange(40 * 40, dtype=np.uint16).reshape(40, 40) * 37)  # mode I;16
    extra = []
    for name, image in [("rgba.png", rgba), ("palette.png", palette), ("gray.jpg", gray), ("deep16.png", deep)]:
        image.save(pathlib.Path(made) / name)
        extra.append(pathlib.Path(made) / name)
    for path in [*IMAGES, *extra]:
        for size in (256, 1024):
            pixels = preprocess(path, size)
            assert pixels.shape == (1, 3, size, size) and pixels.dtype == torch.float32, path
            assert 0 <= pixels.min() and pixels.max() <= 1, path
    # the lake photo is 1000x667: black bands above and below the centred image
    pixels = preprocess(PHOTO_DIR / "lake_1000x667_progressive.jpg", 1024)
    assert pixels[0, :, :100].max() == 0 and pixels[0, :, -100:].max() == 0 and pixels[0, :, 512].max() > 0
    # RGBA: alpha dropped, not composited, so the transparent red stays red
    assert torch.allclose(preprocess(extra[0], 64)[0, :, 32, 32], torch.tensor([200, 10, 10]) / 255)


def test_preprocess_equals_transformers_clip_processor():
    """Apple's processor: CLIPImageProcessor, mean 0 / std 1, shortest_edge = crop = N."""
    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:
        from transformers import CLIPImageProcessor as Processor
    from fastvlm_reference.preprocess import expand_to_square
    for size in (256, 1024):
        processor = Processor(crop_size={"height": size, "width": size}, size={"shortest_edge": size},
                              image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0])
        for path in IMAGES:
            square = expand_to_square(Image.open(path).convert("RGB"))
            theirs = processor.preprocess(square, return_tensors="pt")["pixel_values"]
            assert torch.equal(preprocess(path, size), theirs), f"{path.name} at {size}"


def test_checkpoint_round_trip():
    t = tiny()
    with tempfile.TemporaryDirectory() as folder:
        save_model(t["model"], folder, "float16")
        config = json.loads((pathlib.Path(folder) / "config.json").read_text())
        assert config["model_type"] == "llava_qwen2" and config["architectures"] == ["LlavaQwen2ForCausalLM"]
        assert config["mm_vision_tower"] == "mobileclip_l_256" and config["hidden_size"] == 64
        assert config["torch_dtype"] == "float16" and config["tie_word_embeddings"] is True
        with safe_open(str(pathlib.Path(folder) / "model.safetensors"), "pt") as file:
            stored = {n: (file.get_slice(n).get_dtype(), file.get_slice(n).get_shape()) for n in file.keys()}
        expected = read_tensor_list()
        assert {n: v for n, v in stored.items() if n.startswith(TOWER)} == \
            {n: v for n, v in expected.items() if n.startswith(TOWER)}
        assert set(stored) == set(t["model"].state_dict())
        loaded = load_model(folder)
    for name, value in t["model"].state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    logits = loaded.forward_logits(loaded.build_inputs_embeds(
        PROMPT, loaded.project(loaded.encode_image(t["pixels"]))))
    assert torch.equal(logits, t["logits"]), (logits - t["logits"]).abs().max()


def test_preset_layouts_and_7b_shards():
    """CHECKPOINTS.md's table: tensors, elements, bytes per preset as the Hub ships it (bfloat16, a
    stored lm_head), and the 7B split into the Hub's 4.88 / 4.93 GB shards by the 5 GB rule."""
    want = {"0.5b": (924, 758_833_804, 1_517_667_872), "1.5b": (972, 1_909_278_220, 3_818_556_704),
            "7b": (972, 7_764_588_044, 15_529_176_352)}
    for preset, (count, elements, nbytes) in want.items():
        config = make_config(preset)
        with torch.device("meta"):
            state = FastVLM(config).state_dict()
        layout = checkpoint_layout(state, torch.bfloat16, "copy" if config["tie_word_embeddings"] else None)
        assert len(layout) == count, (preset, len(layout))
        assert sum(int(np.prod(shape)) for _, shape, _ in layout) == elements, preset
        assert sum(tensor_bytes(shape, dtype) for _, shape, dtype in layout) == nbytes, preset
        assert layout[-1][0] == "lm_head.weight" and layout[-1][1] == (config["vocab_size"], config["hidden_size"])
        shards = plan_shards(layout)
        sizes = [round(sum(tensor_bytes(s, d) for _, s, d in shard) / 1e9, 2) for shard in shards]
        if preset == "7b":
            assert sizes[:2] == [4.88, 4.93] and len(sizes) == 4, sizes
            assert [name for name, _, _ in shards[-1]] == ["lm_head.weight"]
        else:
            assert len(shards) == 1, sizes
    kv = {p: make_config(p) for p in ("0.5b", "1.5b", "7b")}
    assert [c["num_attention_heads"] // c["num_key_value_heads"] for c in kv.values()] == [7, 6, 7]
    print("    tensors / elements / bytes as CHECKPOINTS.md; 7B shards 4.88, 4.93, 4.63, 1.09 GB")


def test_stored_head_with_tie_is_what_transformers_uses():
    """A tied config whose file also stores lm_head.weight: transformers ties when the two are
    bit-identical, uses the stored head when they differ, and ties a lone head into the embedding.
    resolve_head (and so load_model) must decide the same."""
    from transformers import Qwen2Config, Qwen2ForCausalLM
    config = Qwen2Config(vocab_size=48, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True)
    torch.manual_seed(0)
    base = {n: t.clone() for n, t in Qwen2ForCausalLM(config).state_dict().items() if n != "lm_head.weight"}
    embed, other = torch.randn(48, 16), torch.randn(48, 16)
    cases = {"equal": {"model.embed_tokens.weight": embed, "lm_head.weight": embed.clone()},
             "different": {"model.embed_tokens.weight": embed, "lm_head.weight": other},
             "head only": {"lm_head.weight": other}}
    for case, stored in cases.items():
        tensors = {**{n: t for n, t in base.items() if n != "model.embed_tokens.weight"}, **stored}
        with tempfile.TemporaryDirectory() as folder:
            from safetensors.torch import save_file
            save_file({n: t.to(torch.bfloat16).contiguous() for n, t in tensors.items()}, f"{folder}/model.safetensors")
            (pathlib.Path(folder) / "config.json").write_text(config.to_json_string())
            hf = Qwen2ForCausalLM.from_pretrained(folder, dtype=torch.float32)
            ours, separate = resolve_head({"tie_word_embeddings": True}, read_tensors(folder))
        hf_tied = hf.lm_head.weight.data_ptr() == hf.model.embed_tokens.weight.data_ptr()
        assert hf_tied == (not separate), case
        head = ours["lm_head.weight"] if separate else ours["model.embed_tokens.weight"]
        assert torch.equal(hf.lm_head.weight, head.float()), case
        assert torch.equal(hf.model.embed_tokens.weight, ours["model.embed_tokens.weight"].float()), case
        print(f"    {case}: transformers {'ties' if hf_tied else 'uses the stored lm_head'}, as resolve_head")


def test_streamed_random_checkpoint_round_trip():
    """write_random (streamed, sharded, Apple's folder form) holds build_random's values; the index
    maps every tensor; a separate head under a tied config loads as a separate head."""
    for head in ("copy", "separate"):
        config = make_config("tiny", layers=1, image_size=64, dtype="bfloat16", vocab_size=151646, hub=False)
        with tempfile.TemporaryDirectory() as folder:
            files = write_random(folder, config, "bfloat16", head, seed=5, max_shard_bytes=60_000_000)
            assert files[0] == "model.safetensors.index.json" and len(files) > 2, files
            index = json.loads((pathlib.Path(folder) / files[0]).read_text())
            stored = {}
            for name in files[1:]:
                with safe_open(f"{folder}/{name}", "pt") as file:
                    stored.update({n: name for n in file.keys()})
                    assert all(file.get_slice(n).get_dtype() in ("BF16", "I64") for n in file.keys())
            assert index["weight_map"] == stored and "lm_head.weight" in stored
            written = json.loads((pathlib.Path(folder) / "config.json").read_text())
            assert "auto_map" not in written and written["tie_word_embeddings"] is True
            assert (pathlib.Path(folder) / "generation_config.json").exists()
            loaded = load_model(folder)
        built = build_random("tiny", 1, 64, "bfloat16", seed=5, vocab_size=151646, head=head)
        assert loaded.tied == built.tied == (head == "copy")
        assert loaded.state_dict().keys() == built.state_dict().keys()
        for name, value in built.state_dict().items():
            assert torch.equal(loaded.state_dict()[name], value), name
        assert built.model.embed_tokens.weight.shape == (151646, 64)
    print("    copy head: tied on load; separate head: untied on load; values equal build_random's")


def test_tower_flops_at_1024():
    """Spec §2: 486.7 GFLOP at 1024 (multiply-add = 2), counted on meta tensors."""
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"):
        tower, image = FastViTHD(1024).eval(), torch.empty(1, 3, 1024, 1024)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        assert tower(image).shape == (1, 3072, 16, 16)
    assert round(counter.get_total_flops() / 1e9, 1) == 486.7, counter.get_total_flops()


def test_timm_crosscheck():
    """timm's fastvit_mci3 with our weights: every stage output equal (own process: torchvision stubs)."""
    result = subprocess.run([sys.executable, "-m", "fastvlm_reference.timm_crosscheck", "--image-size", "128"],
                            cwd=PYTHON_DIR, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("[timm]")]
    print("\n".join("    " + line for line in lines))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def full_0_5b_stds():
    model = build_random("0.5b", seed=0)
    for path in IMAGES:
        stages = {}
        started = time.time()
        features = model.encode_image(preprocess(path, 1024), stages)
        elapsed = time.time() - started
        embeds = model.build_inputs_embeds(PROMPT, model.project(features))
        with torch.no_grad():
            out = model.llm(inputs_embeds=embeds, output_hidden_states=True, use_cache=False)
        hidden = out.hidden_states  # embeddings, then each layer's output (the last one normed)
        print(f"    {path.name} (tower {elapsed:.1f} s): " +
              " ".join(f"{k}={v.std().item():.2f}" for k, v in stages.items()) +
              f" embeds={embeds.std().item():.2f} " +
              " ".join(f"layer{i}={hidden[i].std().item():.2f}" for i in range(0, len(hidden), 6)) +
              f" logits={out.logits.std().item():.2f} greedy={model.greedy_generate(embeds, 4)}")
        assert all(torch.isfinite(v).all() for v in [*stages.values(), *hidden, out.logits])


def main():
    torch.set_num_threads(2)
    tests = [v for k, v in globals().items() if k.startswith("test_")]
    if "--skip-timm" in sys.argv:
        tests.remove(test_timm_crosscheck)
    if "--full" in sys.argv:
        tests.append(full_0_5b_stds)
    passed = failed = 0
    for test in tests:
        started = time.time()
        try:
            test()
            passed += 1
            print(f"ok   {test.__name__} ({time.time() - started:.1f} s)")
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__}\n{traceback.format_exc()}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
