"""ste_factors.py: each surrogate's mean factor on the weight gradient against hand computations
on small tensors, and its table on the ablation's ResNet-20 at initialisation and from runs."""
import contextlib
import io

import pytest
import torch

import estimators
import quant
import ste_factors


def test_identity_factor_is_one_for_both_kinds():
    w = [torch.tensor([0.3, -0.02, 1.5, 0.0])]
    assert ste_factors.mean_factor(w, "identity", 0.0, "ternary") == 1.0
    assert ste_factors.mean_factor(w, "identity", 0.0, "binary") == 1.0


def test_clipped_binary_factor_is_the_fraction_within_one():
    # 1_{|w| <= 1}: three of the four weights, the bound itself included
    w = [torch.tensor([0.5, -2.0, 1.0, -0.1])]
    assert ste_factors.mean_factor(w, "clipped", 0.0, "binary") == 0.75


def test_mean_is_over_weights_not_over_layers():
    # layer A: factors 1, 0; layer B: 1. Over the three weights 2/3; over the layers' means 0.75
    layers = [torch.tensor([0.5, 3.0]), torch.tensor([0.2])]
    assert ste_factors.mean_factor(layers, "clipped", 0.0, "binary") == pytest.approx(2 / 3)


def test_triangle_ternary_factor_by_hand():
    # delta = 0.7 * mean|w| = 0.7 * 0.3 = 0.21; 0.5 * (s(w - d) + s(w + d)) with s(x) = 1 - |x|:
    # 0.3: (0.91 + 0.49) / 2 = 0.70; -0.1: (0.69 + 0.89) / 2 = 0.79; 0.2: (0.99 + 0.59) / 2 = 0.79;
    # -0.6: (0.19 + 0.61) / 2 = 0.40
    w = torch.tensor([0.3, -0.1, 0.2, -0.6])
    per_weight = ste_factors.factors(w, "triangle", 0.0, "ternary")
    assert per_weight.tolist() == pytest.approx([0.70, 0.79, 0.79, 0.40], abs=1e-6)
    mean = ste_factors.mean_factor([w], "triangle", 0.0, "ternary")
    assert mean == pytest.approx(2.68 / 4, abs=1e-6)


def test_ede_factor_at_zero_follows_its_schedule():
    # k t (1 - tanh^2(0)) = k t: t = 0.1, k = 10 at the start (1); t = 10, k = 1 at the end (10)
    w = [torch.zeros(3)]
    assert ste_factors.mean_factor(w, "ede", 0.0, "binary") == pytest.approx(1.0)
    assert ste_factors.mean_factor(w, "ede", 1.0, "binary") == pytest.approx(10.0, rel=1e-5)


def parse(text):
    """(the mean-|w| line, the column names, {row label: [numbers]}) of the printed table."""
    lines = text.splitlines()
    header, *body = [line for line in lines if line.startswith("|")]
    columns = [c.strip() for c in header.strip("|").split("|")][1:]
    table = {}
    for line in body[1:]:
        label, *values = [c.strip() for c in line.strip("|").split("|")]
        table[label] = [float(v) for v in values]
    return lines[0], columns, table


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two made-up run folders: all-zero weights in a final.pt, and weights of 0.01 in a last.pt
    (no config inside) whose folder's config.json keeps conv1 and fc in full precision."""
    root = tmp_path_factory.mktemp("runs")
    latent = ste_factors.latent_weights(0, {})
    zeros = {f"{n}.weight": torch.zeros_like(w) for n, w in latent.items()}
    (root / "zero_run").mkdir()
    final = dict(kind="final", model=zeros, config=dict(model="resnet20"))
    torch.save(final, root / "zero_run" / "final.pt")
    (root / "kept_run").mkdir()
    last = dict(model={k: torch.full_like(v, 0.01) for k, v in zeros.items()})
    torch.save(last, root / "kept_run" / "last.pt")
    config = '{"model": "resnet20", "keep": ["conv1", "fc"]}'
    (root / "kept_run" / "config.json").write_text(config)
    return root


@pytest.fixture(scope="module")
def output(runs):
    """What main prints for the init weights and the two runs, parsed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = ste_factors.main(["--checkpoint", str(runs / "zero_run" / "final.pt"),
                                 "--checkpoint", str(runs / "kept_run" / "last.pt")])
    assert code == 0
    return parse(buffer.getvalue())


def test_every_surrogate_has_a_row_and_only_annealed_ones_have_three(output):
    _, _, table = output
    for name in estimators.SURROGATES:
        labels = [label for label in table if label == name or label.startswith(f"{name} (p=")]
        annealed = name in ("ede", "reste")
        assert labels == ([f"{name} (p={p})" for p in ("0", "0.5", "1")] if annealed else [name])


def test_init_columns_state_the_documented_facts(output):
    _, columns, table = output
    assert columns[:2] == ["init (seed 42) ternary", "init (seed 42) binary"]
    assert table["identity"] == [1.0] * len(columns)
    assert abs(table["triangle"][1] - 1) < 0.1  # at ResNet-20 init scale: the identity's step
    assert table["swish"][1] > 2.5  # its peak is beta = 5: well over twice the identity's step


def test_a_checkpoint_of_zero_weights_gives_each_surrogate_at_zero(output):
    # all weights 0, so delta = 0 too: ternary and binary are both s(0)
    _, columns, table = output
    zero = columns.index("zero_run ternary")
    expected = {"identity": 1.0, "clipped": 1.0, "tanh": 1.0, "polynomial": 2.0, "swish": 5.0,
                "sigmoid": 2.0, "arctan": 2.0, "triangle": 1.0,
                "gaussian": 0.80,  # 1 / (0.5 sqrt(2 pi)) = 0.798
                "ede (p=0)": 1.0, "ede (p=1)": 10.0}
    got = {k: table[k][zero:zero + 2] for k in expected}
    assert got == {k: [v, v] for k, v in expected.items()}


def test_a_last_pt_reads_its_folders_config_and_skips_kept_layers(output):
    line, columns, _ = output
    assert "kept_run ternary" in columns and "kept_run binary" in columns
    assert "init (seed 42) 0." in line and "(20 layers)" in line
    assert "kept_run 0.0100 (18 layers)" in line  # conv1 and fc kept in full precision


def test_a_missing_checkpoint_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        ste_factors.main(["--checkpoint", str(tmp_path / "nothing" / "final.pt")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1
    assert err.startswith("error: cannot load --checkpoint")


def test_a_checkpoint_of_another_model_is_one_line_and_exit_2(tmp_path, capsys):
    torch.save(dict(model={}, config=dict(model="resnet32")), tmp_path / "final.pt")
    with pytest.raises(SystemExit) as e:
        ste_factors.main(["--checkpoint", str(tmp_path / "final.pt")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "resnet32, not a resnet20" in err
