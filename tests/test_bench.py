"""bench.py end to end on tiny settings: JSON rows and their ratios, both layouts, the study's
arithmetic, a user error, --compile; checks of shape and arithmetic, which hold on any machine."""
import json
from contextlib import contextmanager

import pytest
import torch
from conftest import run_script

import bench
import study_hours
import devices

TINY = ["--steps", "1", "--warmup", "1", "--repeats", "1", "--device", "cpu"]


def test_rows_and_ratios(tmp_path):
    r = run_script("bench.py", "--models", "resnet20", "--quants", "fp32,bitnet", "--batch-size",
                   "8", "--image-size", "16", "--out", tmp_path, *TINY)
    assert r.returncode == 0, r.stderr
    files = list(tmp_path.glob("cpu-*cores.json"))
    assert len(files) == 1
    result = json.loads(files[0].read_text())
    assert result["torch_version"] and result["date"] and result["device_description"]
    rows = result["rows"]
    assert [row["quant"] for row in rows] == ["fp32", "bitnet"]
    for row in rows:
        assert row["images_s"] > 0 and row["ms_step"] > 0 and row["mem_mb"] > 0
    assert rows[0]["time_ratio"] == 1.0 and rows[0]["mem_ratio"] == 1.0
    assert "fp32" in r.stdout and "bitnet" in r.stdout


def test_layout_both_times_each_quantizer_in_both_memory_formats(tmp_path, monkeypatch, capsys):
    # in this process, memory measured in no child (test_rows_and_ratios runs those as a user would)
    monkeypatch.setattr(bench, "memory_of", lambda cfg: 2.0 if cfg["channels_last"] else 1.0)
    code = bench.main(["--models", "resnet20", "--quants", "fp32,ttq", "--batch-size", "4",
                       "--image-size", "8", "--layout", "both", "--out", str(tmp_path), *TINY])
    r = capsys.readouterr()
    assert code == 0, r.err
    result = json.loads(next(tmp_path.glob("cpu-*cores.json")).read_text())
    rows = result["rows"]
    assert ([(row["quant"], row["channels_last"]) for row in rows]
            == [("fp32", False), ("fp32", True), ("ttq", False), ("ttq", True)])
    ms = {(row["quant"], row["channels_last"]): row["ms_step"] for row in rows}
    ratios = result["channels_last_over_contiguous"]["resnet20"]
    for q in ("fp32", "ttq"):
        assert abs(ratios[q] - ms[(q, True)] / ms[(q, False)]) < 1e-12
    # over FP32 in the same layout
    assert rows[3]["time_ratio"] == rows[3]["ms_step"] / rows[1]["ms_step"]
    assert ("nhwc" in r.out
            and "nchw" in r.out
            and "channels_last step time / contiguous" in r.out)


def test_study_projection_against_hand_arithmetic():
    # every configuration trains at 1000 images/s and evaluates at 4000; a KD step adds the
    # teacher's forward at 4000 images/s, so KD trains at 1 / (1/1000 + 1/4000) = 800 images/s
    rows = [dict(model=m, quant=q, stem=stem, image_size=size, images_s=1000.0,
                 eval_images_s=4000.0)
            for m in ("resnet18", "resnet50") for q in ("fp32", "bitnet", "ttq")
            for stem in ("cifar", "imagenet")
            for size in (32, 64)]
    study = study_hours.project(rows)
    assert study["total_runs"] == 153
    hours = lambda n_train, rate: 300 * (n_train / rate + 10_000 / 4000) / 3600
    # without KD: 35 cifar10 + 42 cifar100 runs (50k images), 40 tiny-imagenet runs (100k);
    # with KD: 12 runs on each dataset (phase 2: 9 FP32 + 18 BitNet students, phase 4: 9)
    expected = (77 * hours(50_000, 1000) + 40 * hours(100_000, 1000)
                + 24 * hours(50_000, 800) + 12 * hours(100_000, 800))
    assert (abs(study["total_hours"] - expected) < 1e-9 * expected
            and abs(expected - 936.0417) < 1e-3)
    assert abs(sum(p["hours"]
                   for p in study["phases"].values()) - study["total_hours"]) < 1e-9 * expected


def test_study_composition():
    # 153 runs: 22 + 27 + 18 + 54 + 14 + 18
    counts = [sum(e["count"] for e in entries) for entries in study_hours.PHASES.values()]
    assert counts == [22, 27, 18, 54, 14, 18]


def test_unknown_quantizer_exits_2(tmp_path):
    r = run_script("bench.py", "--quants", "fp32,nope", "--out", tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "nope" in lines[0]


# ----------------------------------------------------------------------------- --compile

LENET = ["--models", "lenet5", "--batch-size", "2", "--image-size", "16", "--compile", *TINY]


@contextmanager
def compiling(monkeypatch, backend):
    """torch.compile in this process with `backend` (dynamo's tracing and its graph cache are what
    is tested, not code generation); memory, measured in fresh processes of its own, is left out."""
    torch_dynamo = pytest.importorskip("torch._dynamo")
    monkeypatch.setattr(devices, "COMPILE_BACKEND", backend)
    monkeypatch.setattr(bench, "memory_of", lambda cfg: 1.0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny steps; on a busy machine more threads wait on each other
    # devices.compile_model sets fail_on_recompile_limit_hit for the process; the patch restores it
    fail = torch_dynamo.config.fail_on_recompile_limit_hit
    with torch_dynamo.config.patch(fail_on_recompile_limit_hit=fail):
        try:
            yield
        finally:
            torch_dynamo.reset()
            torch.set_num_threads(threads)


def compile_in_process(monkeypatch, tmp_path, backend, *flags):
    """bench.main with --compile on LeNet-5 in this process: its exit status and its rows."""
    with compiling(monkeypatch, backend):
        code = bench.main([*LENET, "--out", str(tmp_path), *flags])
    return code, json.loads(next(tmp_path.glob("cpu-*cores.json")).read_text())["rows"]


def counting(graphs, fail_at=None):
    """A torch.compile backend that keeps each graph (run as traced); it raises on graph fail_at."""
    def backend(gm, example_inputs):
        graphs.append(gm)
        if len(graphs) == fail_at:
            raise RuntimeError("no code for this graph")
        return gm.forward
    return backend


def symbolic(gm):
    inputs = [n.meta.get("example_value") for n in gm.graph.nodes if n.op == "placeholder"]
    return any(isinstance(v, torch.SymInt) for v in inputs)


def test_compile_compiles_every_configuration_past_dynamos_recompile_limit(monkeypatch, tmp_path,
                                                                           capsys):
    # 6 configurations of one model (one code object) need 12 graphs at once: past dynamo's limit
    # of 8, where the 5th configuration used to fail to compile and be timed eagerly under
    # --compile; and the 4 quantized ones each compile the dynamics' update (one code object too)
    graphs = []
    code, rows = compile_in_process(monkeypatch, tmp_path, counting(graphs),
                                    "--quants", "fp32,bc,twn", "--layout", "both")
    err = capsys.readouterr().err
    assert "eager" not in err and "error" not in err, err
    assert len(graphs) == 12 + 4  # a train and an eval graph per configuration, no recompile
    assert not [gm for gm in graphs if symbolic(gm)]  # static, also in the second layout
    assert len(rows) == 6 and not [r for r in rows if "error" in r] and code == 0


def test_a_configuration_that_does_not_compile_is_a_failed_row_and_exit_1(monkeypatch, tmp_path,
                                                                          capsys):
    graphs = []
    code, rows = compile_in_process(monkeypatch, tmp_path, counting(graphs, fail_at=3),
                                    "--quants", "fp32,bitnet", "--layout", "both",
                                    "--dynamics", "off")
    err = capsys.readouterr().err
    # the second configuration's train graph fails: its row says so and holds no figures (it was
    # timed eagerly under --compile, with a note); the others are timed compiled
    failed = [(r["quant"], r["channels_last"]) for r in rows if "error" in r]
    assert failed == [("fp32", True)] and "images_s" not in rows[1]
    assert rows[1]["error"] == ("torch.compile failed: backend 'backend' raised "
                                "RuntimeError: no code for this graph")
    assert all(r["images_s"] > 0 for r in rows if "error" not in r)
    assert len(graphs) == 2 + 1 + 2 + 2  # the failed configuration's eval graph is never traced
    last = err.strip().splitlines()[-1]
    assert last == "error: 1 configuration(s) did not compile: lenet5 fp32 nhwc 16 px"
    assert code == 1


def test_groups_timed_one_after_another_compile_afresh(monkeypatch):
    # models timed one after another (resnet18 then resnet50, or the study's image sizes) share
    # dynamo's cache when they share a forward: six groups of one LeNet-5 configuration, 12 graphs
    graphs = []
    args = bench.check_bench_args(bench.bench_args([*LENET, "--dynamics", "off"]))
    cfgs = [bench.config(args, "lenet5", q, channels_last=cl)
            for q in ("fp32", "bc", "twn") for cl in (False, True)]
    with compiling(monkeypatch, counting(graphs)):
        rows = [bench.time_side_by_side([cfg])[0] for cfg in cfgs]
    assert [r.get("error") for r in rows] == [None] * 6 and len(graphs) == 12


def test_study_with_a_configuration_that_did_not_compile_projects_nothing_and_exits_1(
        monkeypatch, tmp_path, capsys):
    def measure_rows(cfgs, copies=1, memory=True):  # ResNet-50 with TTQ does not compile
        keys = ("model", "quant", "stem", "image_size", "batch_size", "channels_last")
        figures = dict(images_s=1000.0, ms_step=1.0, aug_share=0.1, eval_images_s=4000.0)
        failed = dict(error="torch.compile failed: X")
        return [dict({k: c[k] for k in keys},
                     **(failed if (c["model"], c["quant"]) == ("resnet50", "ttq") else figures))
                for c in cfgs]
    monkeypatch.setattr(bench, "measure_rows", measure_rows)
    code = bench.main(["--study", "--compile", "--layout", "contiguous", "--out", str(tmp_path),
                       *TINY])
    err = capsys.readouterr().err.strip().splitlines()
    assert "no projection: 2 configuration(s) failed (rows above)" in err
    assert err[-1] == ("error: 2 configuration(s) did not compile: resnet50 ttq nchw 32 px, "
                       "resnet50 ttq nchw 64 px")
    result = json.loads(next(tmp_path.glob("cpu-*cores-study.json")).read_text())
    assert "study" not in result and code == 1
