"""The quantizer dynamics a run records: flips and oscillations counted by hand, exact zeros at
lr 0, each method's codes against its weights, ReSTE's indicators and the saturated share by hand,
the estimators' forward functions, and that recording changes no trained number."""
import json
import math

import pytest
import torch
import torch.nn as nn

import common
import dynamics
import estimators
import models
import qlayers
import train

METHODS = [("bitnet", {}), ("ttq", {}), ("twn", {}), ("bc", {}), ("sr", {}),
           ("xnor", dict(wbits=1, abits=32)), ("dorefa", dict(wbits=1, abits=32)),
           ("dorefa", dict(wbits=3, abits=32)), ("qnn", dict(wbits=1, abits=32)),
           ("qnn", dict(wbits=2, abits=32))]


def one_layer(method, weights, **opts):
    """A quantized linear layer of one output holding `weights`, in a model."""
    model = nn.Sequential(nn.Linear(len(weights), 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([weights]))
    return qlayers.quantize_model(model, method, **opts)


def test_a_weight_going_0_1_0_1_has_three_flips_and_two_oscillations():
    # TTQ's threshold 0.05 max|w| = 0.05: the first weight stays +1, the second goes 0, 1, 0, 1
    model = one_layer("ttq", [1.0, 0.0])
    record = dynamics.Dynamics(model)
    for second in (0.5, 0.0, 0.5):
        model[0].weight.data[0, 1] = second
        record.after_step()
    ema = record.state["0"]["ema"][0, 1].item()
    wide, layers = record.read()
    assert wide["flip_rate"] == 3 / (3 * 2) and wide["oscillation_rate"] == 2 / (3 * 2)
    assert wide["epoch_flip"] == 1 / 2  # 0 at the start, 1 at the end
    assert wide["levels"] == {"-1": 0.0, "0": 0.0, "1": 1.0} and wide["zero_share"] == 0.0
    # EMA of the oscillations (momentum 0.01): 0, then 0.01, then 0.99 * 0.01 + 0.01
    assert ema == pytest.approx(0.0199) and wide["oscillating"] == 0.0
    assert layers["0"]["flip_rate"] == wide["flip_rate"]
    # the epoch's sums start again, and its end is the next epoch's reference
    record.after_step()
    again, _ = record.read()
    assert again["flip_rate"] == 0.0 and again["epoch_flip"] == 0.0


@pytest.mark.parametrize("method,opts", METHODS)
def test_at_lr_0_no_code_changes(method, opts):
    torch.manual_seed(0)
    model = qlayers.quantize_model(models.build_model("resnet20", 10, 8, 3), method, **opts)
    record = dynamics.Dynamics(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
    x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        qlayers.after_step(model)
        record.after_step()
    wide, _ = record.read()
    assert (wide["flip_rate"], wide["oscillation_rate"], wide["epoch_flip"]) == (0.0, 0.0, 0.0)
    assert wide["grad_norm"] > 0


@pytest.mark.parametrize("method,opts", METHODS)
def test_each_methods_codes_name_its_weights_levels(method, opts):
    # equal codes, equal weights (per output channel: XNOR's alpha), and a higher code a higher one
    torch.manual_seed(0)
    layer = qlayers.quantize_model(nn.Sequential(nn.Conv2d(4, 3, 3)), method, **opts)[0]
    codes = layer.quantizer.codes(layer.weight.detach())
    values = layer.quantizer.weight(layer.weight).detach()
    assert set(codes.unique().tolist()) <= set(layer.quantizer.code_levels)
    for channel in range(3):
        c, v = codes[channel].flatten().tolist(), values[channel].flatten().tolist()
        by_code = {}
        for code, value in zip(c, v):
            by_code.setdefault(code, set()).add(value)
        assert all(len(vs) == 1 for vs in by_code.values()), by_code
        ordered = [by_code[k].pop() for k in sorted(by_code)]
        assert ordered == sorted(ordered)


def test_estimating_error_instability_and_saturation_by_hand():
    # TWN with the identity STE: f(w) = ((w - d) + (w + d)) / 2 = w, so e = ||codes - w||_2;
    # d = 0.7 mean|w| = 0.7 * 0.5 = 0.35: codes 1, 0, -1, 0
    w = [0.9, 0.2, -0.7, -0.2]
    model = one_layer("twn", w, ste="identity")
    record = dynamics.Dynamics(model, ste=True)
    model[0].weight.grad = torch.tensor([[0.1, -0.3, 0.2, 0.0]])
    record.after_step()
    wide, _ = record.read()
    assert wide["levels"] == {"-1": 0.25, "0": 0.5, "1": 0.25}
    assert wide["estimating_error"] == pytest.approx(math.dist([1, 0, -1, 0], w))
    g = torch.tensor([0.1, 0.3, 0.2, 0.0])  # |g|, its variance as torch.var (n - 1)
    assert wide["gradient_instability"] == pytest.approx(g.var().item())
    assert wide["grad_norm"] == pytest.approx(math.hypot(0.1, 0.3, 0.2))
    assert "saturated" not in wide  # the identity is never zero
    # XNOR's default clipped STE is zero past |w| = 1: two of four latent weights get no gradient
    wide, _ = dynamics.Dynamics(one_layer("xnor", [2.0, 0.5, -3.0, 0.1], wbits=1)).read()
    assert wide["saturated"] == 0.5 and "estimating_error" not in wide
    assert wide["scales"] == {"alpha": pytest.approx((2 + 0.5 + 3 + 0.1) / 4)}


def test_ttq_scales_are_the_values_its_weights_take():
    model = one_layer("ttq", [0.8, -0.4, 0.0, 0.6])
    q = model[0].quantizer
    with torch.no_grad():
        q.sp.fill_(2.0)
        q.sn.fill_(3.0)
    wide, layers = dynamics.Dynamics(model).read()
    weights = q.weight(model[0].weight).detach().flatten().tolist()
    assert layers["0"]["scales"]["positive"] == pytest.approx(max(weights))
    assert layers["0"]["scales"]["negative"] == pytest.approx(-min(weights))


@pytest.mark.parametrize("name", list(estimators.SURROGATES))
def test_each_estimates_derivative_is_its_surrogate(name):
    # away from the kinks (|x| = 0.1, 1, 1.5), for three points of the annealing
    x = torch.linspace(-3, 3, 1201, dtype=torch.float64)
    kinks = torch.tensor([0.0, 0.1, 1.0, 1.5], dtype=torch.float64)
    x = x[(x.abs()[:, None] - kinks).abs().min(1).values > 1e-3]
    for progress in (0.0, 0.5, 1.0):
        xs = x.clone().requires_grad_()
        estimators.ESTIMATES[name](xs, progress).sum().backward()
        expected = estimators.SURROGATES[name](x, progress).to(torch.float64)
        assert torch.allclose(xs.grad, expected, atol=1e-6), name
        assert estimators.ESTIMATES[name](torch.zeros(1), progress).item() == 0.0


LENET = ["--model", "lenet5", "--dataset", "mnist", "--fake-data", "--epochs", "2",
         "--steps-per-epoch", "3", "--batch-size", "16", "--device", "cpu", "--quiet", "--tag", "t"]


def run_train(*argv):
    """train.main in this process: its exit status."""
    try:
        return train.main([*LENET, *map(str, argv)])
    except SystemExit as e:
        return e.code


def test_recording_changes_no_trained_number(tmp_path):
    # stochastic BinaryConnect draws from the global generator: recording must draw nothing
    for setting in ("on", "off"):
        code = run_train("--quant", "bc", "--stochastic", "--dynamics", setting,
                         "--out", tmp_path / setting)
        assert code == 0
    on, off = (tmp_path / s / "mnist/lenet5/t_s0" for s in ("on", "off"))
    a, b = (common.load_checkpoint(f / "final.pt")["model"] for f in (on, off))
    assert all(torch.equal(a[k], b[k]) for k in a)
    history_on = common.read_json(on / "results.json")["history"]
    history_off = common.read_json(off / "results.json")["history"]
    assert [h["test_top1"] for h in history_on] == [h["test_top1"] for h in history_off]
    assert all("dynamics" in h for h in history_on)
    assert not any("dynamics" in h for h in history_off)
    lines = [json.loads(line) for line in (on / "dynamics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2] and not (off / "dynamics.jsonl").exists()
    assert list(lines[0]["layers"]) == ["conv1", "conv2", "fc1", "fc2", "fc"]


def test_fp32_runs_record_no_dynamics_and_a_bad_setting_is_one_line(tmp_path, capsys):
    assert run_train("--out", tmp_path) == 0
    folder = tmp_path / "mnist/lenet5/t_s0"
    assert not any("dynamics" in h for h in common.read_json(folder / "results.json")["history"])
    assert not (folder / "dynamics.jsonl").exists()
    capsys.readouterr()
    assert run_train("--quant", "twn", "--dynamics", "yes", "--out", tmp_path) == 2
    assert "--dynamics" in capsys.readouterr().err.splitlines()[-1]


def test_a_torn_or_later_log_line_is_cut_on_resume(tmp_path):
    log = tmp_path / "dynamics.jsonl"
    log.write_text('{"epoch": 1, "layers": {}}\n{"epoch": 2, "layers": {}}\n{"epoch": 3, "la')
    dynamics.truncate_log(log, 1)
    assert log.read_text() == '{"epoch": 1, "layers": {}}\n'
