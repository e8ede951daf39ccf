"""Packing of a trained run's weights at their bit width (k-bit codes into a codebook of each
layer's distinct values, unpacked bit for bit), loading a packed file into a model that computes
with the unpacked weights, and evaluating both and the per-layer summary of a run folder.

    python export.py RUN_DIR              # RUN_DIR/packed.pt, export.json, summary.md
    python export.py --summary RUN_DIR    # the per-layer summary only
"""
import argparse
import math
import os
import sys
from pathlib import Path

import torch

import batches
import common
import datasets
import flags
import qlayers
import summary
import train

FORMAT = "packed-weights/1"  # the layout pack() writes; unpack() reads it


# -------------------------------------------------------------------- the model of a configuration

def rebuild(config):
    """The network of a run's configuration, built and quantized as train.py builds it (weights
    still to load)."""
    # --init-from only sets starting weights and TTQ's starting scales, which the loaded state
    # replaces
    args = argparse.Namespace(**{**vars(flags.parse_args([])), **config, "init_from": None})
    return train.build(args, config["num_classes"], config["image_size"],
                       config.get("in_channels", 3))[0]


# ----------------------------------------------------------------------------- packing

@torch.no_grad()
def effective_weights(model):
    """{layer name: the weight it computes with} of every layer quantized below 32 bits, in eval
    mode (BC's sign, not a random draw)."""
    model.eval()
    return {name: m.quantizer.weight(m.weight).detach() for name, m in model.named_modules()
            if hasattr(m, "quantizer") and m.quantizer.weight_bits < 32}


def order_key(patterns):
    # float32 bit patterns as int32 in the order of their values (a negative float's magnitude bits
    # flipped); self-inverse
    return patterns ^ ((patterns >> 31) & 0x7FFFFFFF)


def codebook(w, bits):
    """(codes, book) with book[g, code] bit-identical to each value of w, g its group: the whole
    layer when it has at most 2^bits distinct values, else its output channel (XNOR's alpha is one
    scale per channel). Distinct means distinct bit patterns, so a -0.0 comes back as -0.0; codes
    follow the values' order (0 is the most negative)."""
    for groups in (1, w.shape[0]):
        keys = order_key(w.reshape(groups, -1).contiguous().view(torch.int32))
        ordered = keys.sort(dim=1).values
        first = torch.ones_like(ordered, dtype=torch.bool)
        # the first of each distinct value in its group
        first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        if first.sum(1).max() <= 2 ** bits:
            break
    else:
        raise ValueError(f"{first.sum(1).max()} distinct weights in one output channel, "
                         f"more than {bits} bits can name")
    # unused slots sort last
    book = torch.full((groups, 2 ** bits), torch.iinfo(torch.int32).max, dtype=torch.int32)
    # the k-th distinct value of a group into its slot k
    book.scatter_(1, first.cumsum(1) - 1, ordered)
    codes = torch.searchsorted(book, keys)
    book[torch.arange(2 ** bits) >= first.sum(1, keepdim=True)] = 0  # unused slots: 0.0
    return codes.flatten(), order_key(book).view(torch.float32)


def pack_bits(codes, bits):
    """Codes below 2^bits into bytes, `bits` bits each, least significant bit first."""
    planes = (codes.to(torch.uint8)[:, None] >> torch.arange(bits, dtype=torch.uint8)) & 1
    stream = torch.cat([planes.flatten(), planes.new_zeros(-planes.numel() % 8)])
    return (stream.view(-1, 8) << torch.arange(8, dtype=torch.uint8)).sum(1, dtype=torch.uint8)


def unpack_bits(packed, bits, count):
    stream = ((packed[:, None] >> torch.arange(8, dtype=torch.uint8)) & 1).flatten()[:count * bits]
    shifts = torch.arange(bits, dtype=torch.uint8)
    return (stream.view(count, bits) << shifts).sum(1, dtype=torch.uint8)


def pack(model, config):
    """The packed form of a built model with its weights loaded: a dict of four flat tensors and
    plain values, which torch.load(..., weights_only=True) reads. Everything is in the order of the
    model's state_dict, so that no tensor needs a name or a record of its own in the file (about 80
    bytes each)."""
    weights = {name: w.cpu() for name, w in effective_weights(model).items()}
    layers, codes, books, floats, ints = {}, [], [], [], []
    for key, t in model.state_dict().items():
        name = key.removesuffix(".weight")
        if key.endswith(".weight") and name in weights:
            bits = model.get_submodule(name).quantizer.weight_bits
            try:
                c, book = codebook(weights[name], bits)
            except ValueError as e:
                raise ValueError(f"layer {name}: {e}") from None
            layers[name] = dict(bits=bits, groups=book.shape[0])
            codes.append(pack_bits(c, bits))
            books.append(book.flatten())
        elif t.is_floating_point():
            # the full-precision rest as it is: kept layers, batch norm, biases, quantizer state
            floats.append(t.detach().cpu().flatten())
        else:  # batch norm's step counters
            ints += t.flatten().tolist()
    return dict(format=FORMAT, config=config, layers=layers, codes=torch.cat(codes),
                codebooks=torch.cat(books), floats=torch.cat(floats), ints=ints)


def expand(codes, book, bits, shape):
    """A layer's weight from its packed codes and codebook: the values it was trained to compute
    with."""
    index = unpack_bits(codes, bits, math.prod(shape)).long().view(book.shape[0], -1)
    return book.gather(1, index).view(shape)


def unpack_state(packed, model):
    """(state_dict, {layer: (codes, book, bits, shape)}) of a packed dict, read in the order of
    model's state_dict."""
    at = dict(codes=0, codebooks=0, floats=0, ints=0)

    def take(field, n):
        at[field] += n
        return packed[field][at[field] - n:at[field]]

    state, parts = {}, {}
    for key, t in model.state_dict().items():
        name = key.removesuffix(".weight")
        if key.endswith(".weight") and name in packed["layers"]:
            bits, groups = packed["layers"][name]["bits"], packed["layers"][name]["groups"]
            parts[name] = (take("codes", -(-t.numel() * bits // 8)),
                           take("codebooks", groups * 2 ** bits).view(groups, -1), bits, t.shape)
            state[key] = expand(*parts[name])
        elif t.is_floating_point():
            state[key] = take("floats", t.numel()).view(t.shape)
        else:
            state[key] = torch.tensor(take("ints", t.numel()), dtype=t.dtype).view(t.shape)
    if any(at[field] != len(packed[field]) for field in at) or set(parts) != set(packed["layers"]):
        raise ValueError("the packed file does not match the model of its configuration")
    return state, parts


def as_stored(w):
    """weight() of an unpacked layer: its weight is already the quantized one."""
    return w


def unpack(packed):
    """The model of a packed dict in eval mode: its quantized layers compute with the unpacked
    weights, their activations still quantized by their method (XNOR's compute, BitNet's
    sub-LayerNorm and absmax, ...)."""
    if packed.get("format") != FORMAT:
        raise ValueError(f"not a packed file of export.py (format {packed.get('format')!r}, "
                         f"expected {FORMAT!r})")
    model = rebuild(packed["config"])
    model.load_state_dict(unpack_state(packed, model)[0])
    for name in packed["layers"]:
        # an instance attribute: XNOR.compute calls it too
        model.get_submodule(name).quantizer.weight = as_stored
    return model.eval()


def load_packed(path):
    """The model of a packed file (export.py's packed.pt), on the CPU, in eval mode."""
    return unpack(common.load_checkpoint(path))


def bit_identical(a, b):
    return a.shape == b.shape and torch.equal(a.contiguous().view(torch.int32),
                                              b.contiguous().view(torch.int32))


# ----------------------------------------------------------------------------- a run folder

def first_line(error):
    return str(error).strip().splitlines()[0][:160]


def read_checkpoint(run_dir):
    path = run_dir / "best.pt"
    if not run_dir.is_dir():
        common.fail(f"no run folder {run_dir}")
    if not path.is_file():
        common.fail(f"no checkpoint in {run_dir}: best.pt is written when a run's first epoch ends")
    try:
        ckpt = common.load_checkpoint(path)
    except Exception as e:
        # truncated, not a zip, or pickled objects other than tensors and plain values
        common.fail(f"corrupt checkpoint {path} "
                    f"({type(e).__name__}{': ' + first_line(e) if str(e).strip() else ''})")
    if (not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict)
            or "quant" not in ckpt.get("config", {})):
        common.fail(f"{path} is not a checkpoint of train.py (it needs a model and its config)")
    return ckpt


def check_writable(run_dir):
    try:
        probe = run_dir / f".write-test{os.getpid()}"
        common.write_atomic(probe, lambda f: f.write(b"ok"))
        probe.unlink()
    except OSError as e:
        common.fail(f"cannot write to {run_dir} ({e.strerror or e})")


def eval_args(config, device, data_dir):
    """train.py's flags of the run, for batches.prepare_data and train.evaluate: the same (or
    generated) test set, evaluated in float32 on `device`."""
    return argparse.Namespace(**{**vars(flags.parse_args([])), **config, "device": device,
                                 "amp": False, "channels_last": False,
                                 "data_dir": data_dir or config.get("data_dir", "./data")})


def training_normalization(config, data, device):
    """The mean and std (per channel, or per pixel) the run trained with: config.json's, or for a
    run that predates them the statistics train.py then took, of the first 10,000 training
    images."""
    if config.get("norm_mean") is not None:
        mean, std = config["norm_mean"], config["norm_std"]
    elif data.get("streamed"):
        return data["mean"], data["std"]
    else:
        mean, std = datasets.channel_stats(data["train_x"][:datasets.NORM_SAMPLE])
    return (torch.tensor(mean, dtype=torch.float32, device=device),
            torch.tensor(std, dtype=torch.float32, device=device))


def summary_of_run(run_dir):
    """export.py --summary: print the summary of a run folder's model and keep it as
    RUN_DIR/summary.md."""
    config = common.read_json(run_dir / "config.json")
    if config is None:
        common.fail(f"no config.json in {run_dir}: not a run folder of train.py")
    layers = summary.layer_table(rebuild(config), config)
    print(summary.as_text(layers))
    common.write_atomic(run_dir / "summary.md",
                        lambda f: f.write(summary.as_markdown(layers).encode()))


def export_run(run_dir, device="cpu", data_dir=None):
    """Pack RUN_DIR/best.pt into RUN_DIR/packed.pt, evaluate both, write export.json and
    summary.md."""
    ckpt = read_checkpoint(run_dir)
    check_writable(run_dir)
    config = ckpt["config"]
    model = rebuild(config)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        common.fail(f"{run_dir / 'best.pt'} does not fit its own configuration ({first_line(e)})")
    if qlayers.predates_image_as_is(config, model):
        common.fail(f"{run_dir} was trained when {config['quant']}'s first layer quantized the "
                    "image; this code feeds it the image as it is, another model: export it with "
                    f"the commit it was trained at ({config.get('git_commit')})")
    model.to(device).eval()
    _, _, deployed, fp32 = qlayers.model_size(model)
    summary.write_summary(run_dir / "summary.md", model, config)
    if not effective_weights(model):
        common.write_json(run_dir / "export.json",
                          dict(packed_bytes=None, deployed_bytes=deployed, fp32_bytes=fp32,
                               compression_ratio=fp32 / deployed, note="nothing to pack"))
        common.fail(f"{run_dir} is a full-precision run ({config['quant']}): nothing to pack; "
                    f"wrote its FP32 size ({fp32:,} bytes) to export.json")
    args = eval_args(config, device, data_dir)
    data = batches.prepare_data(args)  # before writing anything: a missing dataset stops here
    data["mean"], data["std"] = training_normalization(config, data, device)
    float_top1 = train.evaluate(args, model, data)[0]
    try:
        packed = pack(model, config)
    except ValueError as e:
        common.fail(f"cannot pack {run_dir}: {e}")
    # the inputs' normalization the run trained with: a deployment needs it too
    packed.update(mean=data["mean"].tolist(), std=data["std"].tolist())
    path = run_dir / "packed.pt"
    # to a temporary name, then renamed: never half-written under this one
    common.save_checkpoint(path, packed)
    rebuilt = load_packed(path).to(device)  # the file as written, not the dict in memory
    exact = all(bit_identical(w.cpu(), rebuilt.get_submodule(name).weight.cpu())
                for name, w in effective_weights(model).items())
    packed_top1 = train.evaluate(args, rebuilt, data)[0]
    packed_bytes = path.stat().st_size
    result = dict(packed_file=path.name, packed_bytes=packed_bytes, deployed_bytes=deployed,
                  fp32_bytes=fp32, compression_ratio=fp32 / packed_bytes, float_top1=float_top1,
                  packed_top1=packed_top1, weights_bit_exact=exact,
                  test_images=len(data["test"]) if data.get("streamed") else len(data["test_y"]),
                  device=device)
    common.write_json(run_dir / "export.json", result)
    weights = "bit for bit as trained" if exact else "NOT bit-identical to the checkpoint"
    print(f"packed: {path}\n"
          f"  size   {packed_bytes:,} bytes ({summary.human(packed_bytes)}); "
          f"deployed estimate {deployed:,}, FP32 {fp32:,}: "
          f"{result['compression_ratio']:.2f}x smaller\n"
          f"  top-1  checkpoint {float_top1:.2f}%, packed {packed_top1:.2f}% "
          f"({result['test_images']:,} test images)\n"
          f"  weights unpacked {weights}")
    if not exact:
        print("warning: unpacked weights differ from the checkpoint's quantized weights",
              file=sys.stderr)
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", help="a run folder of train.py (OUT/<dataset>/<model>/<tag>_s<seed>)")
    # before training, train.py ... --summary prints the same summary
    p.add_argument("--summary", action="store_true",
                   help="print the per-layer summary only (and write summary.md)")
    p.add_argument("--device", default="auto",
                   help="where to evaluate: auto (cuda when present), cpu, cuda, ...")
    p.add_argument("--data-dir", default=None,
                   help="the dataset's folder, when not where the run was trained")
    args = p.parse_args(argv)
    run_dir = Path(args.run_dir)
    device = (("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto"
              else args.device)
    try:
        if args.summary:
            summary_of_run(run_dir)
        else:
            export_run(run_dir, device, args.data_dir)
    except OSError as e:
        # a full disk or a vanished folder while writing: files are renamed into place, none
        # half-written
        common.fail(f"cannot write to {run_dir} ({e.strerror or e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
