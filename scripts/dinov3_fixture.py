#!/usr/bin/env python3
"""Build the DINOv3 golden fixtures that `judge/tests/it/dino.rs` checks the Rust model against.

Reference implementation: Hugging Face `transformers` (DINOv3ViTModel, DINOv3ViTConfig, DINOv3ViTImageProcessor),
which needs transformers >= 4.56 with torch and torchvision. Nothing is downloaded: the models are tiny
random-initialised configs built here, and the preprocessing inputs are PNGs drawn by this script.

Writes into OUT (default judge/tests/fixtures/dinov3):
  <name>/config.json          the HF config of the tiny model
  <name>/model.safetensors    its weights under the exact HF tensor names (F32): tiny_gelu spells the blocks
                              `layer.N.*` as the published checkpoints do, tiny_swiglu `model.layer.N.*` as
                              transformers 5 saves them
  <name>/io.safetensors       pixel_values [2,3,32,48], last_hidden_state, pooler_output
  preprocess/<img>.png        two test images (one RGBA to exercise "drop alpha", one RGB)
  preprocess/expected.safetensors  the processor's pixel_values for each, every 7th pixel of the 224x224 output

Usage: python3 scripts/dinov3_fixture.py [OUT]
"""

import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import DINOv3ViTConfig, DINOv3ViTModel

try:  # transformers 5.x names the torch processor DINOv3ViTImageProcessor, 4.x the "Fast" one.
    from transformers import DINOv3ViTImageProcessorFast as Processor
except ImportError:  # pragma: no cover - depends on the installed version
    from transformers import DINOv3ViTImageProcessor as Processor

SEED = 20261122


def tiny_config(gated: bool) -> DINOv3ViTConfig:
    return DINOv3ViTConfig(
        hidden_size=32,
        intermediate_size=64 if not gated else 48,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_register_tokens=4,
        patch_size=16,
        image_size=32,
        layer_norm_eps=1e-5,
        rope_theta=100.0,
        query_bias=True,
        key_bias=False,
        value_bias=True,
        proj_bias=True,
        mlp_bias=True,
        use_gated_mlp=gated,
        hidden_act="silu" if gated else "gelu",
        attn_implementation="eager",
    )


def randomise(model: torch.nn.Module, gen: torch.Generator) -> None:
    # Default init makes LayerScale 1 and biases 0; give every parameter a distinct, sizeable value so that
    # a missing bias, a swapped norm or a wrong RoPE layout shows up in the outputs.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("mask_token"):
                p.zero_()
                continue
            std = 0.5 if p.dim() >= 2 else 0.3
            p.copy_(torch.randn(p.shape, generator=gen) * std)
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)


def build_model(out: str, name: str, gated: bool, gen: torch.Generator, hub_names: bool) -> None:
    torch.manual_seed(SEED)
    config = tiny_config(gated)
    model = DINOv3ViTModel(config).eval()
    randomise(model, gen)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    tensors = {k: v.detach().contiguous().float() for k, v in model.state_dict().items() if "inv_freq" not in k}
    if hub_names:
        # transformers 5 nests the blocks under `model.layer.N`; the published checkpoints (converted with 4.56)
        # name them `layer.N`. The Rust loader accepts both, so one fixture uses each spelling.
        tensors = {(k[len("model."):] if k.startswith("model.layer.") else k): v for k, v in tensors.items()}
    save_file(tensors, os.path.join(d, "model.safetensors"))
    cfg = config.to_dict()
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({k: cfg[k] for k in sorted(cfg) if not k.startswith("_")}, f, indent=1, default=str)
    pixel_values = torch.randn((2, 3, 32, 48), generator=gen)
    with torch.no_grad():
        o = model(pixel_values=pixel_values)
    save_file(
        {
            "pixel_values": pixel_values.contiguous(),
            "last_hidden_state": o.last_hidden_state.contiguous(),
            "pooler_output": o.pooler_output.contiguous(),
        },
        os.path.join(d, "io.safetensors"),
    )
    print(name, "tensors:", len(tensors), "tokens:", tuple(o.last_hidden_state.shape))


def draw_images(d: str) -> dict:
    yy, xx = np.mgrid[0:61, 0:97].astype(np.float64)
    rgba = np.stack(
        [
            127.5 + 127.5 * np.sin(xx / 7.0),
            127.5 + 127.5 * np.cos(yy / 5.0),
            (xx * 2 + yy * 3) % 256,
            np.where((xx + yy) % 3 == 0, 0, 200),  # alpha must be dropped, not composited
        ],
        axis=-1,
    ).round().clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:200, 0:240].astype(np.float64)
    rgb = np.stack(
        [
            127.5 + 127.5 * np.sin(xx / 3.0 + yy / 11.0),
            (xx + yy) % 256,
            127.5 + 127.5 * np.cos(math.pi * xx * yy / 4000.0),
        ],
        axis=-1,
    ).round().clip(0, 255).astype(np.uint8)
    images = {"small_rgba": Image.fromarray(rgba, "RGBA"), "large_rgb": Image.fromarray(rgb, "RGB")}
    for name, im in images.items():
        im.save(os.path.join(d, f"{name}.png"), optimize=True)
    return images


def build_preprocess(out: str) -> None:
    d = os.path.join(out, "preprocess")
    os.makedirs(d, exist_ok=True)
    images = draw_images(d)
    processor = Processor()
    expected = {}
    for name, im in images.items():
        # Reload from disk so the bytes the Rust test reads are exactly what the processor saw.
        with Image.open(os.path.join(d, f"{name}.png")) as f:
            pv = processor(images=f.convert("RGB"), return_tensors="pt")["pixel_values"][0]
        assert tuple(pv.shape) == (3, 224, 224), pv.shape
        expected[name] = pv[:, ::7, ::7].contiguous().float()
    save_file(expected, os.path.join(d, "expected.safetensors"))
    print("preprocess:", {k: tuple(v.shape) for k, v in expected.items()}, "processor:", Processor.__name__)


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "judge", "tests", "fixtures", "dinov3")
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)
    build_model(out, "tiny_gelu", gated=False, gen=gen, hub_names=True)
    build_model(out, "tiny_swiglu", gated=True, gen=gen, hub_names=False)
    build_preprocess(out)
    import transformers

    with open(os.path.join(out, "VERSIONS"), "w") as f:
        f.write(f"transformers {transformers.__version__}\ntorch {torch.__version__}\n")


if __name__ == "__main__":
    main()
