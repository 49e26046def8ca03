"""FastVLM = FastViTHD tower + mlp2x_gelu projector + transformers' Qwen2ForCausalLM.

Parameter names are the checkpoint's (shared/spec/fastvlm-0.5b-tensors.txt): the Qwen2 decoder is
`model.*`, the tower `model.vision_tower.vision_tower.model.*` and the projector
`model.mm_projector.{0,2}.*`; `lm_head.weight` is a parameter of its own when tie_word_embeddings is
false, or when a checkpoint stores a head that differs from the embedding (`separate_head`: what
transformers runs then, see CHECKPOINTS.md).
"""
import torch
from torch import nn
from transformers import Qwen2Config, Qwen2ForCausalLM

from .fastvithd import EMBED_DIM, FastViTHD
from .preprocess import preprocess  # noqa: F401  (re-exported: the model's input pipeline)

IMAGE_TOKEN_INDEX = -200
IM_END = 151645  # <|im_end|>, Qwen2's eos in FastVLM


def qwen2_config(config, tied=None):
    """The Qwen2 part of a FastVLM config.json dict; the head tied as config.json says unless `tied` is given."""
    if tied is None:
        tied = bool(config.get("tie_word_embeddings", False))
    return Qwen2Config(
        vocab_size=config["vocab_size"],
        hidden_size=config["hidden_size"],
        intermediate_size=config["intermediate_size"],
        num_hidden_layers=config["num_hidden_layers"],
        num_attention_heads=config["num_attention_heads"],
        num_key_value_heads=config["num_key_value_heads"],
        hidden_act=config.get("hidden_act", "silu"),
        max_position_embeddings=config.get("max_position_embeddings", 32768),
        rms_norm_eps=config["rms_norm_eps"],
        rope_theta=config["rope_theta"],
        tie_word_embeddings=tied,
        use_sliding_window=False,
        attention_dropout=0.0,
        bos_token_id=config.get("bos_token_id"),
        eos_token_id=config.get("eos_token_id"),
    )


def tower_image_size(config):
    """`mobileclip_l_1024` -> 1024."""
    name = config["mm_vision_tower"]
    assert name.startswith("mobileclip_l_"), f"unsupported vision tower {name!r}"
    return int(name.rsplit("_", 1)[-1])


class MCi(nn.Module):
    """MobileCLIP image encoder wrapper: holds the FastViT as `.model`."""

    def __init__(self, image_size):
        super().__init__()
        self.model = FastViTHD(image_size)


class MobileCLIPVisionTower(nn.Module):
    def __init__(self, image_size):
        super().__init__()
        self.vision_tower = MCi(image_size)

    def forward(self, pixel_values):
        features = self.vision_tower.model(pixel_values)  # [B,3072,h,w]
        return features.flatten(2).transpose(1, 2)  # [B,h*w,3072], row-major over (h,w)


def mlp2x_gelu(cin, hidden):
    return nn.Sequential(nn.Linear(cin, hidden), nn.GELU(), nn.Linear(hidden, hidden))


class FastVLM(nn.Module):
    def __init__(self, config, separate_head=False):
        """`separate_head`: an lm_head of its own although config.json says tied (a checkpoint storing
        a head that differs from the embedding, which transformers then does not tie)."""
        super().__init__()
        assert config.get("mm_projector_type", "mlp2x_gelu") == "mlp2x_gelu"
        self.config = config
        self.image_size = tower_image_size(config)
        self.tied = bool(config.get("tie_word_embeddings", False)) and not separate_head
        llm = Qwen2ForCausalLM(qwen2_config(config, self.tied))
        # Registered under our own names so the state_dict is the checkpoint's: `model.*` (+ `lm_head`
        # when untied). Qwen2ForCausalLM itself is kept unregistered and used for the forward.
        object.__setattr__(self, "llm", llm.eval())
        self.model = llm.model
        self.model.vision_tower = MobileCLIPVisionTower(self.image_size)
        self.model.mm_projector = mlp2x_gelu(config.get("mm_hidden_size", EMBED_DIM), config["hidden_size"])
        if self.tied:
            assert llm.lm_head.weight is llm.model.embed_tokens.weight
        else:
            self.lm_head = llm.lm_head

    def train(self, mode=True):
        self.llm.train(mode)  # not a registered child, so nn.Module.train would miss its own flag
        return super().train(mode)

    @property
    def vision_tower(self):
        return self.model.vision_tower.vision_tower.model

    @torch.no_grad()
    def encode_image(self, pixel_values, intermediates=None):
        """pixel_values [1,3,N,N] -> image_features [1,(N/64)^2,3072]."""
        features = self.vision_tower(pixel_values.to(self.dtype), intermediates)
        return features.flatten(2).transpose(1, 2)

    @torch.no_grad()
    def project(self, image_features):
        """[1,T,3072] -> [1,T,hidden]."""
        return self.model.mm_projector(image_features)

    @property
    def dtype(self):
        return self.model.embed_tokens.weight.dtype

    @torch.no_grad()
    def build_inputs_embeds(self, input_ids, image_embeds):
        """ids [T] or [1,T] holding one -200 -> [1, T-1+M, hidden], the -200 replaced by image_embeds [1,M,hidden]."""
        ids = torch.as_tensor(input_ids, dtype=torch.long).reshape(-1)
        where = (ids == IMAGE_TOKEN_INDEX).nonzero().flatten().tolist()
        assert len(where) == 1, f"expected exactly one image placeholder ({IMAGE_TOKEN_INDEX}), found {len(where)}"
        at = where[0]
        embed = self.model.embed_tokens
        parts = [embed(ids[:at]), image_embeds[0].to(embed.weight.dtype), embed(ids[at + 1:])]
        return torch.cat(parts, 0).unsqueeze(0)

    @torch.no_grad()
    def forward_logits(self, inputs_embeds):
        """[1,S,hidden] -> logits [1,S,vocab] for every position (positions 0..S-1, causal)."""
        return self.llm(inputs_embeds=inputs_embeds, use_cache=False).logits

    @torch.no_grad()
    def greedy_generate(self, inputs_embeds, max_new_tokens, eos=IM_END):
        """Our own loop over Qwen2ForCausalLM with its KV cache (not HF generate): prefill all
        positions, then one token at a time, argmax each step. Returns the new ids, eos included
        when it was produced."""
        out = self.llm(inputs_embeds=inputs_embeds, use_cache=True)
        tokens = []
        for _ in range(max_new_tokens):
            token = int(out.logits[0, -1].argmax())
            tokens.append(token)
            if token == eos or len(tokens) == max_new_tokens:
                break
            out = self.llm(input_ids=torch.tensor([[token]]), past_key_values=out.past_key_values, use_cache=True)
        return tokens

    @torch.no_grad()
    def describe(self, image, input_ids, max_new_tokens=64):
        """Image path or PIL image + prompt ids with one -200 -> generated ids."""
        pixel_values = preprocess(image, self.image_size)
        embeds = self.build_inputs_embeds(input_ids, self.project(self.encode_image(pixel_values)))
        return self.greedy_generate(embeds, max_new_tokens)
