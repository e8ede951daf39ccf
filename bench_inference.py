"""Inference speed of packed models on a CPU: eval forwards at batch 1 and --batch-size of the FP32
network and, per quantizer, of the model as trained, unpacked once from its packed form, and
unpacked from its packed codes in every forward, each first checked against its float logits.

    python bench_inference.py --models resnet20,resnet18 --quants fp32,bitnet,ttq,twn,xnor \
        --steps 5 --repeats 5
"""
import argparse
import statistics
from datetime import datetime, timezone

import torch
import torch.nn as nn

import bench
import export
import flags
import train


def inference_args(argv=None):
    p = argparse.ArgumentParser(description="Time eval forwards of packed quantized models on the "
                                "CPU.")
    a = p.add_argument
    a("--models", default="resnet20,resnet18", help="comma-separated model names")
    a("--quants", default="fp32,bitnet,ttq,twn,xnor",
      help="comma-separated quantizer names (FP32 always runs)")
    a("--batch-size", type=int, default=128, help="timed at batch 1 and at this size")
    a("--image-size", type=int, default=32)
    a("--steps", type=int, default=5, help="timed forwards per repeat")
    a("--warmup", type=int, default=1, help="untimed forwards first")
    a("--repeats", type=int, default=5, help="timed windows; the median is reported")
    a("--out", default="results/bench", help="folder for <device-name>-inference.json")
    p.set_defaults(device="cpu", amp=False, concurrent=1)  # packed models are for CPUs here
    return bench.check_bench_args(p.parse_args(argv))


# as a checkpoint holds it, unpacked once at load, unpacked every forward
# (each unpacks to float weights and runs the float convolutions of the model it was packed from)
VARIANTS = ("float", "unpacked", "packed")


def unpacking_every_forward(packed):
    """The model of a packed dict holding only the packed codes of its quantized layers, unpacked in
    every forward before the same float convolution (what a deployment short of memory would run
    without low-bit kernels)."""
    model = export.unpack(packed)
    for name, part in export.unpack_state(packed, model)[1].items():
        layer = model.get_submodule(name)
        layer.quantizer.weight = lambda w, part=part: export.expand(*part)
        layer.weight = nn.Parameter(torch.empty(0), requires_grad=False)  # the float copy goes
    return model


def inference_models(model_name, quant_name, image_size):
    """{variant: (model in eval mode, bytes of its weights and state)} of one configuration,
    randomly initialized (the speed does not depend on the values): "fp32" for the full-precision
    network, else VARIANTS."""
    bits = bench.BITS.get(quant_name)
    argv = ["--model", model_name, "--quant", quant_name, "--device", "cpu"]
    args = flags.resolve(flags.parse_args(argv
                                          + (["--wbits", str(bits[0]), "--abits", str(bits[1])]
                                             if bits else [])))
    model, stem = train.build(args, bench.NUM_CLASSES, image_size, 3)
    state_bytes = lambda m: sum(t.numel() * t.element_size() for t in m.state_dict().values())
    if quant_name == "fp32":
        return {"fp32": (model.eval(), state_bytes(model))}
    packed = export.pack(model, dict(vars(args), stem=stem, num_classes=bench.NUM_CLASSES,
                                     image_size=image_size, in_channels=3))
    every = unpacking_every_forward(packed)
    codes_bytes = packed["codes"].numel() + 4 * packed["codebooks"].numel()
    unpacked = export.unpack(packed)
    return dict(float=(model.eval(), state_bytes(model)),
                unpacked=(unpacked, state_bytes(unpacked)),
                packed=(every, state_bytes(every) + codes_bytes))


@torch.no_grad()
def time_inference(args):
    """Rows of eval-forward times per model, batch size and variant, windows interleaved as in
    bench.time_side_by_side; every variant of a quantizer is checked to compute the same logits as
    its float model first."""
    rows = []
    for model_name in args.models:
        nets = {(q, v): net for q in ["fp32"] + [q for q in args.quants if q != "fp32"]
                for v, net in inference_models(model_name, q, args.image_size).items()}
        for batch in sorted({1, args.batch_size}):
            x = torch.randn(batch, 3, args.image_size, args.image_size,
                            generator=torch.Generator().manual_seed(0))
            same = {(q, v): torch.equal(m(x), nets[(q, "float")][0](x))
                    for (q, v), (m, _) in nets.items() if q != "fp32"}
            for (m, _) in nets.values():
                for _ in range(args.warmup):
                    m(x)
            windows = {key: [] for key in nets}
            for _ in range(args.repeats):
                for key, (m, _) in nets.items():
                    windows[key].append(bench.timed(lambda: m(x), args.steps, "cpu"))
            ms = {key: 1000 * statistics.median(w) for key, w in windows.items()}
            for (q, v), (_, size) in nets.items():
                rows.append(dict(model=model_name, quant=q, variant=v, batch_size=batch,
                                 ms_batch=ms[(q, v)],
                                 images_s=1000 * batch / ms[(q, v)],
                                 x_fp32=ms[(q, v)] / ms[("fp32", "fp32")],
                                 x_float=ms[(q, v)] / ms[(q, "float")] if q != "fp32" else None,
                                 weights_mb=size / 2**20, same_logits=same.get((q, v))))
                print(format_inference_row(rows[-1]), flush=True)
    return rows


INFERENCE_HEADER = (f"{'model':<10} {'quant':<7} {'variant':<9} {'batch':>5} {'ms/batch':>9} "
                    f"{'images/s':>9} {'x fp32':>7} {'x float':>7} {'weights MB':>10}")


def format_inference_row(r):
    return (f"{r['model']:<10} {r['quant']:<7} {r['variant']:<9} {r['batch_size']:>5} "
            f"{r['ms_batch']:>9.2f} {r['images_s']:>9.1f} {r['x_fp32']:>7.2f} "
            f"{bench.fmt(r['x_float'], '.2f'):>7} {r['weights_mb']:>10.2f}"
            + ("" if r["same_logits"] in (None, True)
               else "  (logits differ from the float model!)"))


def main(argv=None):
    args = inference_args(argv)
    print(INFERENCE_HEADER, flush=True)
    rows = time_inference(args)
    result = dict(date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  torch_version=torch.__version__,
                  device="cpu", device_description=bench.device_description("cpu"),
                  settings=vars(args), rows=rows)
    bench.write_result(args.out, f"{bench.device_name('cpu')}-inference.json", result)


if __name__ == "__main__":
    main()
