"""Tests of export.py and summary.py: tiny trained runs of every method packed, reloaded and
evaluated, their weights bit for bit the quantized ones; the packed size; the summary against
qlayers.model_size and MACs counted by hand; one-line errors; atomic writes; bench_inference.py."""
import errno
import json
import math
import os
import pickle
import resource
import subprocess
import sys

import pytest
import torch

import batches
import bench_inference
import common
import datasets
import export
import flags
import models
import qlayers
import summary
import train
from conftest import ROOT, run_script

TINY = ["--dataset", "synthetic", "--fake-data", "--fake-size", "8", "--epochs", "1",
        "--steps-per-epoch", "2", "--batch-size", "32", "--device", "cpu", "--quiet"]
RESNET20 = ["--model", "resnet20"]
RUNS = {  # run name -> flags; weight bits of the method, as its paper states it
    "bitnet": (RESNET20 + ["--quant", "bitnet", "--fp32-conv1"], 2),
    "ttq": (RESNET20 + ["--quant", "ttq"], 2),
    "twn": (RESNET20 + ["--quant", "twn"], 2),
    "bc": (RESNET20 + ["--quant", "bc"], 1),
    "bc_stochastic": (RESNET20 + ["--quant", "bc", "--stochastic"], 1),
    "sr": (RESNET20 + ["--quant", "sr"], 1),
    "xnor_w1a1": (RESNET20 + ["--quant", "xnor", "--wbits", "1", "--abits", "1"], 1),
    "xnor_w1a32": (RESNET20 + ["--quant", "xnor", "--wbits", "1", "--abits", "32"], 1),
    # LeNet-5: linear layers with biases and XNOR's BatchNorm1d before a binarized linear layer
    "xnor_w1a1_lenet5": (["--model", "lenet5", "--quant", "xnor", "--wbits", "1", "--abits", "1",
                          "--fake-size", "16"], 1),
    "dorefa_w2a2": (RESNET20 + ["--quant", "dorefa", "--wbits", "2", "--abits", "2"], 2),
    "qnn_w2a2": (RESNET20 + ["--quant", "qnn", "--wbits", "2", "--abits", "2", "--keep", "fc"], 2),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: one thread is faster than two, and not slowed down by a busy machine (threads
    that wait for each other on two shared cores took this file from 20 s to 150 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """run name -> its run folder, trained on first use (one epoch of two steps), in this
    process."""
    out, folders = tmp_path_factory.mktemp("raw"), {}

    def run(name):
        if name not in folders:
            argv = RUNS[name][0] if name in RUNS else RESNET20 + ["--quant", "fp32"]
            # argv after TINY wins
            assert train.main([*TINY, *argv, "--out", str(out), "--tag", name]) == 0
            folders[name] = out / "synthetic" / argv[1] / f"{name}_s0"
        return folders[name]
    return run


def reference_model(config, state):
    """The checkpoint's model built from models.py and qlayers.py directly (not through
    export.py)."""
    model = models.build_model(config["model"], config["num_classes"], config["image_size"],
                               config["in_channels"],
                               stem=config["stem"], bn=config["bn"], shortcut=config["shortcut"])
    qlayers.quantize_model(model, config["quant"], config["keep"], sub_ln=config["sub_ln"],
                           wbits=config["wbits"],
                           abits=config["abits"], ste=config["ste"],
                           stochastic=config["stochastic"], ttq_threshold=config["ttq_threshold"])
    model.load_state_dict(state)
    return model.eval()


def one_line_error(capsys, excinfo, *words):
    err = capsys.readouterr().err.strip()
    return (excinfo.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("error:")
            and all(w in err for w in words))


# ----------------------------------------------------------------------------- packing, bit for bit

@pytest.mark.parametrize("name", sorted(RUNS))
def test_packed_weights_are_the_quantized_weights_bit_for_bit(trained, name, capsys):
    folder = trained(name)
    assert export.main([str(folder), "--device", "cpu"]) == 0
    assert "bit for bit" in capsys.readouterr().out
    ckpt = common.load_checkpoint(folder / "best.pt")
    model = reference_model(ckpt["config"], ckpt["model"])
    packed = torch.load(folder / "packed.pt", weights_only=True)  # tensors and plain values only
    unpacked = export.load_packed(folder / "packed.pt")
    bits, codes_bytes = RUNS[name][1], 0
    with torch.no_grad():
        for layer_name, layer in model.named_modules():
            if isinstance(layer, (qlayers.QConv2d, qlayers.QLinear)):
                expected = layer.quantizer.weight(layer.weight)
                got = unpacked.get_submodule(layer_name).weight
                # equal as bit patterns too: a -0.0 of BitNet's rounding comes back as -0.0
                assert (torch.equal(got, expected)
                        and torch.equal(got.view(torch.int32), expected.view(torch.int32)))
                codes_bytes += math.ceil(layer.weight.numel() * bits / 8)
            # kept in full precision, as trained
            elif isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                assert torch.equal(unpacked.get_submodule(layer_name).weight, layer.weight)
        # `bits` per weight
        assert packed["codes"].dtype == torch.uint8 and packed["codes"].numel() == codes_bytes
        size = ckpt["config"]["image_size"]
        x = torch.randn(4, ckpt["config"]["in_channels"], size, size)
        assert torch.equal(unpacked(x), model(x))  # the same logits, bit for bit
    result = common.read_json(folder / "export.json")
    # train.py's own evaluation of best.pt
    assert result["packed_top1"] == result["float_top1"] == ckpt["top1"]
    assert result["weights_bit_exact"] is True
    assert result["packed_bytes"] == (folder / "packed.pt").stat().st_size
    assert result["fp32_bytes"] == common.read_json(folder / "results.json")["fp32_size_bytes"]


def test_the_packed_file_alone_scores_the_reported_top1(trained):
    folder = trained("dorefa_w2a2")
    if not (folder / "packed.pt").exists():
        assert export.main([str(folder), "--device", "cpu"]) == 0
    packed = common.load_checkpoint(folder / "packed.pt")
    model = export.load_packed(folder / "packed.pt")
    # the run's test images, made as train.py makes them, normalized with the file's own mean and
    # std
    config = packed["config"]
    data = datasets.load_synthetic(seed=config["seed"], size=config["image_size"], n_train=256,
                                   n_test=16)
    with torch.no_grad():
        logits = model(batches.normalize(data["test_x"], packed["mean"], packed["std"],
                                          torch.float32))
    top1 = 100 * (logits.argmax(1) == data["test_y"]).sum().item() / len(data["test_y"])
    assert top1 == common.read_json(folder / "export.json")["packed_top1"]


def test_packed_size_is_the_deployed_size_plus_the_configuration(tmp_path, capsys):
    # ResNet-18 rather than a tiny net: beside the k-bit codes the file holds the configuration, a
    # zip record per tensor, an index of the layers, and batch norm's running statistics (buffers,
    # which qlayers.model_size leaves out); on a ternary ResNet-20 the statistics alone are 8% of
    # the deployed bytes, on ResNet-18 1.4%
    args = flags.resolve(flags.parse_args(["--model", "resnet18", "--quant", "bitnet", *TINY]))
    model, stem = train.build(args, 10, 8, 3)
    config = dict(vars(args), stem=stem, num_classes=10, image_size=8, in_channels=3)
    common.save_checkpoint(tmp_path / "best.pt", dict(model=model.state_dict(), config=config))
    assert export.main([str(tmp_path), "--device", "cpu"]) == 0
    result = common.read_json(tmp_path / "export.json")
    deployed = summary.layer_table(model, config)["totals"]["deployed_bytes"]
    # torch.save pickles with protocol 2
    expected = deployed + len(pickle.dumps(config, protocol=2))
    assert abs(result["packed_bytes"] - expected) <= 0.05 * expected, (
        result["packed_bytes"], expected)
    assert result["packed_bytes"] == (tmp_path / "packed.pt").stat().st_size
    assert f"{result['packed_bytes']:,} bytes" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the summary

RESNET20_MACS = (16 * 27 * 32 * 32  # conv1: 3 -> 16 channels at 32x32, 3x3 kernels
                 + 6 * 16 * 144 * 32 * 32  # layer1: six 16 -> 16 convs at 32x32
                 # layer2: 16 -> 32 stride 2, five 32 -> 32 at 16x16
                 + 32 * 144 * 16 * 16 + 5 * 32 * 288 * 16 * 16
                 # layer3: 32 -> 64 stride 2, five 64 -> 64 at 8x8
                 + 64 * 288 * 8 * 8 + 5 * 64 * 576 * 8 * 8
                 + 64 * 10)  # fc
CONV1_MACS, FC_MACS = 16 * 27 * 32 * 32, 64 * 10


@pytest.mark.parametrize("argv,shares", [
    (["--quant", "bitnet", "--fp32-conv1"],
     dict(ternary=RESNET20_MACS - CONV1_MACS, fp=CONV1_MACS)),
    (["--quant", "xnor", "--wbits", "1", "--abits", "1", "--keep", "fc"],
     dict(binary=RESNET20_MACS - FC_MACS, fp=FC_MACS)),
    (["--quant", "dorefa", "--wbits", "4", "--abits", "4"], {"k-bit": RESNET20_MACS}),
    (["--quant", "ttq"], dict(ternary=RESNET20_MACS)),
    (["--quant", "fp32"], dict(fp=RESNET20_MACS)),
])
def test_summary_totals_equal_model_size_and_macs_counted_by_hand(argv, shares):
    args = flags.resolve(flags.parse_args(["--model", "resnet20", "--dataset", "cifar10",
                                           "--device", "cpu", *argv]))
    model, stem = train.build(args, 10, 32, 3)
    config = dict(vars(args), stem=stem, num_classes=10, image_size=32, in_channels=3)
    layers = summary.layer_table(model, config)
    t = layers["totals"]
    assert (t["params"], t["quantized"], t["deployed_bytes"],
            t["fp32_bytes"]) == qlayers.model_size(model)
    # 19 convs and fc
    assert sum(t["by_precision"].values()) == t["params"] and len(layers["rows"]) == 20
    assert t["macs"] == RESNET20_MACS == 40_551_040
    assert t["mac_share"] == {k: shares.get(k, 0) / RESNET20_MACS for k in summary.KINDS}
    assert f"{t['deployed_bytes']:,} bytes" in summary.as_text(layers)


def test_train_summary_flag_prints_without_data_or_training(tmp_path):
    r = run_script("train.py", "--model", "resnet20", "--quant", "bitnet", "--fp32-conv1",
                   "--dataset", "cifar10",
                   "--data-dir", tmp_path / "no-data", "--out", tmp_path / "raw", "--summary")
    assert r.returncode == 0, r.stderr
    model = models.build_model("resnet20", 10)
    qlayers.quantize_model(model, "bitnet", ["conv1"])
    assert (f"{qlayers.model_size(model)[2]:,} bytes" in r.stdout
            and f"{RESNET20_MACS:,}" in r.stdout)
    assert ("layer3.2.conv2" in r.stdout
            and not (tmp_path / "raw").exists()
            and not (tmp_path / "no-data").exists())


def test_a_run_keeps_its_summary_and_export_summary_prints_it(trained, capsys):
    folder = trained("ttq")
    # train.py's qlayers.model_size
    deployed = common.read_json(folder / "results.json")["model_size_bytes"]
    assert f"{deployed:,} bytes" in (folder / "summary.md").read_text()
    (folder / "summary.md").unlink()
    assert export.main(["--summary", str(folder)]) == 0
    assert (f"{deployed:,} bytes" in capsys.readouterr().out
            and "| layer1.0.conv1 | 16x16x3x3 | ttq |" in (folder / "summary.md").read_text())


# ------------------------------------------------------------------------- errors and atomic writes

def test_a_folder_without_checkpoint_and_a_corrupt_checkpoint_are_one_line_errors(
        tmp_path, trained, capsys):
    with pytest.raises(SystemExit) as e:
        export.main([str(tmp_path), "--device", "cpu"])
    assert one_line_error(capsys, e, "no checkpoint")
    # truncated
    (tmp_path / "best.pt").write_bytes((trained("bitnet") / "best.pt").read_bytes()[:5000])
    with pytest.raises(SystemExit) as e:
        export.main([str(tmp_path), "--device", "cpu"])
    assert one_line_error(capsys, e, "corrupt checkpoint")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt"]


def test_a_run_whose_first_layer_quantized_the_image_is_not_exported_as_another_model(
        trained, tmp_path, capsys):
    # a best.pt of before quant_forward 2: its DoReFa conv1 clipped the image to [0, 1]
    ckpt = common.load_checkpoint(trained("dorefa_w2a2") / "best.pt")
    assert ckpt["config"]["quant_forward"] == 2
    del ckpt["config"]["quant_forward"]
    common.save_checkpoint(tmp_path / "best.pt", ckpt)
    with pytest.raises(SystemExit) as e:
        export.main([str(tmp_path), "--device", "cpu"])
    assert one_line_error(capsys, e, "first layer quantized the image")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt"]


def test_a_full_precision_run_has_nothing_to_pack_but_its_size(trained, capsys):
    folder = trained("fp32")
    with pytest.raises(SystemExit) as e:
        export.main([str(folder), "--device", "cpu"])
    assert one_line_error(capsys, e, "nothing to pack")
    result = common.read_json(folder / "export.json")
    assert result["fp32_bytes"] == common.read_json(folder / "results.json")["fp32_size_bytes"]
    assert result["packed_bytes"] is None and not (folder / "packed.pt").exists()


def test_an_unwritable_folder_is_one_line_error(trained, tmp_path):
    # tests may run as root, which file permissions do not stop; a file-size limit of 0 fails every
    # write for anyone
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "best.pt").write_bytes((trained("twn") / "best.pt").read_bytes())
    r = subprocess.run([sys.executable, "export.py", str(folder), "--device", "cpu"], cwd=ROOT,
                       capture_output=True,
                       text=True, preexec_fn=limit,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"), timeout=300)
    err = r.stderr.strip()
    assert (r.returncode == 2 and len(err.splitlines()) == 1
            and err.startswith("error: cannot write to")), err
    # nothing written, no temporary file left
    assert [p.name for p in folder.iterdir()] == ["best.pt"]


@pytest.mark.parametrize("previous", [None, b"the previous export"])
def test_a_failure_while_writing_leaves_no_half_packed_file(trained, monkeypatch, capsys,
                                                            tmp_path, previous):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "best.pt").write_bytes((trained("sr") / "best.pt").read_bytes())
    if previous:
        (folder / "packed.pt").write_bytes(previous)
    real_save = torch.save

    def disk_fills(obj, f):  # half the file, then the disk is full
        real_save(obj, f)
        f.truncate(f.tell() // 2)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_fills)
    with pytest.raises(SystemExit) as e:
        export.main([str(folder), "--device", "cpu"])
    assert one_line_error(capsys, e, "cannot write", "No space left")
    assert (sorted(p.name for p in folder.iterdir())
            == ["best.pt"] + (["packed.pt"] if previous else []) + ["summary.md"])
    assert not previous or (folder / "packed.pt").read_bytes() == previous  # the old file, whole


# ----------------------------------------------------------------------------- bench_inference.py

def test_bench_inference_times_every_variant_with_the_same_logits(tmp_path):
    bench_inference.main(["--models", "resnet20", "--quants", "fp32,xnor", "--batch-size", "2",
                "--image-size", "8", "--steps", "1", "--warmup", "0", "--repeats", "1", "--out",
                          str(tmp_path)])
    rows = json.loads(next(tmp_path.glob("*-inference.json")).read_text())["rows"]
    assert {(r["quant"], r["variant"], r["batch_size"]) for r in rows} == {
        (q, v, b)
        for b in (1, 2)
        for q, vs in (("fp32", ["fp32"]), ("xnor", bench_inference.VARIANTS))
        for v in vs}
    assert all(r["ms_batch"] > 0 and r["same_logits"] is (None if r["quant"] == "fp32" else True)
               for r in rows)
    packed = next(r["weights_mb"] for r in rows if r["variant"] == "packed")
    fp32 = next(r["weights_mb"] for r in rows if r["quant"] == "fp32")
    assert packed < fp32 / 8  # 1-bit codes, not floats, held in memory
