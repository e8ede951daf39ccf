"""bench.py end to end on tiny settings: the JSON rows, the study's arithmetic and a user error.
No timing is asserted (the numbers depend on the machine)."""
import json

from conftest import run_script

import bench

TINY = ["--steps", "1", "--warmup", "1", "--repeats", "1", "--device", "cpu"]


def test_rows_and_ratios(tmp_path):
    r = run_script("bench.py", "--models", "resnet20", "--quants", "fp32,bitnet", "--batch-size", "8",
                   "--image-size", "16", "--out", tmp_path, *TINY)
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


def test_layout_both_times_each_quantizer_in_both_memory_formats(tmp_path):
    r = run_script("bench.py", "--models", "resnet20", "--quants", "fp32,ttq", "--batch-size", "4", "--image-size", "8",
                   "--layout", "both", "--out", tmp_path, *TINY)
    assert r.returncode == 0, r.stderr
    result = json.loads(next(tmp_path.glob("cpu-*cores.json")).read_text())
    rows = result["rows"]
    assert [(row["quant"], row["channels_last"]) for row in rows] == [("fp32", False), ("fp32", True),
                                                                       ("ttq", False), ("ttq", True)]
    ms = {(row["quant"], row["channels_last"]): row["ms_step"] for row in rows}
    ratios = result["channels_last_over_contiguous"]["resnet20"]
    for q in ("fp32", "ttq"):
        assert abs(ratios[q] - ms[(q, True)] / ms[(q, False)]) < 1e-12
    assert rows[3]["time_ratio"] == rows[3]["ms_step"] / rows[1]["ms_step"]  # over FP32 in the same layout
    assert "nhwc" in r.stdout and "nchw" in r.stdout and "channels_last step time / contiguous" in r.stdout


def test_study_projection_against_hand_arithmetic():
    # every configuration trains at 1000 images/s and evaluates at 4000; a KD step adds the teacher's
    # forward at 4000 images/s, so KD trains at 1 / (1/1000 + 1/4000) = 800 images/s
    rows = [dict(model=m, quant=q, stem=stem, image_size=size, images_s=1000.0, eval_images_s=4000.0)
            for m in ("resnet18", "resnet50") for q in ("fp32", "bitnet", "ttq") for stem in ("cifar", "imagenet")
            for size in (32, 64)]
    study = bench.project(rows)
    assert study["total_runs"] == 153
    hours = lambda n_train, rate: 300 * (n_train / rate + 10_000 / 4000) / 3600
    # without KD: 35 cifar10 + 42 cifar100 runs (50k images), 40 tiny-imagenet runs (100k);
    # with KD: 12 runs on each dataset (phase 2: 9 FP32 + 18 BitNet students, phase 4: 9)
    expected = 77 * hours(50_000, 1000) + 40 * hours(100_000, 1000) + 24 * hours(50_000, 800) + 12 * hours(100_000, 800)
    assert abs(study["total_hours"] - expected) < 1e-9 * expected and abs(expected - 936.0417) < 1e-3
    assert abs(sum(p["hours"] for p in study["phases"].values()) - study["total_hours"]) < 1e-9 * expected


def test_study_composition():
    # 153 runs: 22 + 27 + 18 + 54 + 14 + 18
    counts = [sum(e["count"] for e in entries) for entries in bench.PHASES.values()]
    assert counts == [22, 27, 18, 54, 14, 18]


def test_unknown_quantizer_exits_2(tmp_path):
    r = run_script("bench.py", "--quants", "fp32,nope", "--out", tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "nope" in lines[0]
