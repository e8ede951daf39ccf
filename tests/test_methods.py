"""The methods of the other studies: TWN, BinaryConnect, stochastic rounding, XNOR-Net, DoReFa-Net,
QNN and the eleven straight-through estimators, against their equations; every method and bit width
of the results table builds and trains a few steps."""
import math

import pytest
import torch
import torch.nn as nn

import estimators
import models
import qlayers
import quant
from conftest import run_script


def quantized_linear(method, weight, **opts):
    """A hidden linear layer, quantized (a model's first layer takes the image as it is)."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    layer.weight.data = weight.clone()
    return qlayers.quantize_layer(layer, method, **opts)


def test_twn_threshold_and_scale():
    w = torch.tensor([[1.0, -0.2, 0.5, -0.9, 0.05, 0.25]])
    # mean|W| = 2.9/6 = 0.48333, delta = 0.7 * 0.48333 = 0.33833; above: 1.0, 0.5, 0.9 -> alpha =
    # 0.8
    layer = quantized_linear("twn", w)
    assert torch.allclose(layer.quantizer.weight(layer.weight),
                          torch.tensor([[0.8, 0, 0.8, -0.8, 0, 0]]))


def test_binaryconnect_sign_stochastic_probability_and_clipping():
    w = torch.tensor([[0.3, -0.4, 0.0, 2.0]])
    layer = quantized_linear("bc", w)
    assert layer.quantizer.weight(layer.weight).tolist() == [[1.0, -1.0, 1.0, 1.0]]
    stochastic = quantized_linear("bc", torch.full((1, 20000), 0.5), stochastic=True)
    share = (stochastic.quantizer.weight(stochastic.weight) == 1).float().mean().item()
    assert abs(share - 0.75) < 0.02  # hard_sigmoid(0.5) = (0.5 + 1) / 2
    qlayers.after_step(nn.Sequential(layer))
    assert torch.allclose(layer.weight, torch.tensor([[0.3, -0.4, 0.0, 1.0]]))


def test_stochastic_rounding_keeps_weights_on_the_grid_with_the_right_odds():
    torch.manual_seed(0)
    layer = quantized_linear("sr",
                             torch.full((1, 20000), 0.25) * torch.tensor([1.0, -1.0]).repeat(10000))
    s = layer.quantizer.s.item()
    assert math.isclose(s, 0.25) and set(layer.weight.unique().tolist()) == {-0.25, 0.25}
    # a step that moves every weight to 0.125 (a quarter of the way from -s to +s... up from the
    # middle):
    layer.weight.data.fill_(0.125)
    qlayers.after_step(nn.Sequential(layer))
    # Q_s(w + s) with step 2s: (0.375 / 0.5) = 0.75 -> up with probability 0.75
    share_up = (layer.weight == 0.25).float().mean().item()
    assert set(layer.weight.unique().tolist()) <= {-0.25, 0.25} and abs(share_up - 0.75) < 0.02


def test_xnor_scales_per_output_channel_and_binarizes_normalized_input():
    w = torch.tensor([[1.0, -3.0], [0.5, 0.5]])
    layer = quantized_linear("xnor", w, wbits=1, abits=1)
    assert torch.allclose(layer.quantizer.weight(layer.weight),
                          torch.tensor([[2.0, -2.0], [0.5, 0.5]]))
    layer.quantizer.eval()  # BN with running stats 0 and 1: the identity up to eps
    x = torch.tensor([[2.0, -1.0], [-0.5, -0.5]])
    # a linear layer's K: mean |I| per sample
    beta = x.abs().mean(1, keepdim=True) / math.sqrt(1 + 1e-5)
    # (sign(I) . sign(W)^T) * K * alpha: sample 1 signs (+, -), sample 2 (-, -)
    expected = torch.tensor([[1 + 1, 1 - 1], [-1 + 1, -1 - 1]]) * beta * torch.tensor([2.0, 0.5])
    assert torch.allclose(layer(x), expected, atol=1e-5)
    bwn = quantized_linear("xnor", w, wbits=1, abits=32)
    assert torch.allclose(bwn(x), x @ torch.tensor([[2.0, -2.0], [0.5, 0.5]]).T)


def test_dorefa_weights_and_activations():
    w = torch.tensor([[0.0, 0.5, -1.0, 2.0]])
    layer = quantized_linear("dorefa", w, wbits=2, abits=2)
    t = torch.tanh(w)
    r = t / (2 * t.abs().max()) + 0.5
    expected = 2 * torch.round(r * 3) / 3 - 1
    assert torch.allclose(layer.quantizer.weight(layer.weight), expected)
    x_q, codes, scale = layer.quantizer.input(torch.tensor([-1.0, 0.2, 0.5, 0.9, 3.0]))
    # round(3x)/3 of clip(x, 0, 1)
    assert torch.allclose(x_q, torch.tensor([0.0, 1 / 3, 2 / 3, 1.0, 1.0]))
    assert (codes.dtype == torch.int8 and codes.tolist() == [0, 1, 2, 3, 3]
            and abs(scale.item() - 1 / 3) < 1e-7)
    eight_bit = quantized_linear("dorefa", w, wbits=8,
                                 abits=8).quantizer.input(torch.tensor([0.5, 1.0]))[1]
    # round(127.5) = 128 (half to even)
    assert eight_bit.dtype == torch.uint8 and eight_bit.tolist() == [128, 255]
    one_bit = quantized_linear("dorefa", w, wbits=1)
    assert torch.allclose(one_bit.quantizer.weight(one_bit.weight),
                          torch.tensor([[1, 1, -1, 1]]) * 0.875)


def test_qnn_binary_uses_clipped_ste_and_kbit_is_linear():
    layer = quantized_linear("qnn", torch.ones(1, 4), wbits=1, abits=1)
    x = torch.tensor([0.5, -2.0, 0.9, -0.3], requires_grad=True)
    y = layer.quantizer.input(x)[0]
    assert y.tolist() == [1.0, -1.0, 1.0, -1.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0, 1.0]  # cancelled where |x| > 1
    # 3 bits: step (0.5 - -2) / 7 = 5/14, levels round(x / step) in [-3, 4]: 1.4 -> 1, -5.6 -> -3,
    # 0.56 -> 1
    three_bit = quant.quantize_linear(torch.tensor([0.5, -2.0, 0.2]), 3, torch.tensor(2.5))[0]
    assert torch.allclose(three_bit, torch.tensor([1.0, -3.0, 1.0]) * 5 / 14)


SMOOTH = {  # the smooth function whose derivative each surrogate is, checked with autograd
    "tanh": torch.tanh,
    "sigmoid": lambda x: 2 * torch.sigmoid(4 * x) - 1,
    "arctan": lambda x: 2 / math.pi * torch.atan(math.pi * x),
    "swish": lambda x: 2 * torch.sigmoid(5 * x) * (1 + 5 * x * (1 - torch.sigmoid(5 * x))) - 1,
    "polynomial": lambda x: torch.where(x.abs() < 1, 2 * x - x * x.abs(), torch.sign(x)),
    "clipped": lambda x: x.clamp(-1, 1),
    "identity": lambda x: x,
    "triangle": lambda x: torch.where(x.abs() < 1, x - x * x.abs() / 2, torch.sign(x) / 2),
    "gaussian": lambda x: torch.erf(x / (0.5 * math.sqrt(2))) / 2,
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_surrogate_gradient_is_the_derivative_of_its_smooth_sign(name):
    x = torch.linspace(-1.8, 1.8, 37, dtype=torch.float64)
    x = x[(x.abs() - 1).abs() > 1e-6]  # the kinks of the piecewise ones
    a = x.clone().requires_grad_()
    estimators.binarize(a, name).sum().backward()
    b = x.clone().requires_grad_()
    SMOOTH[name](b).sum().backward()
    assert torch.allclose(a.grad, b.grad, atol=1e-6), name
    assert estimators.binarize(x, name).abs().eq(1).all()


def test_ede_anneals_from_flat_to_sharp():
    x = torch.tensor([0.0, 0.5])
    early, late = estimators.SURROGATES["ede"](x, 0.0), estimators.SURROGATES["ede"](x, 1.0)
    # t = 0.1, k = 10: k t (1 - tanh^2(t x)); t = 10, k = 1
    assert torch.allclose(early, 10 * 0.1 * (1 - torch.tanh(0.1 * x) ** 2))
    assert torch.allclose(late, 10 * (1 - torch.tanh(10 * x) ** 2))


def test_reste_is_the_authors_power_function_with_o_on_their_cosine_schedule():
    x = torch.tensor([0.05, -0.125, 0.9, 1.5, -1.6])
    # o = 1 at the start: the identity on |x| <= t = 1.5, zero past it
    assert torch.allclose(estimators.SURROGATES["reste"](x, 0.0),
                          torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0]))
    # o = 3 at the end: (1/3)|x|^(-2/3) for 0.1 < |x| <= 1.5; the secant slope 0.1^(1/3) / 0.1
    # inside |x| <= 0.1
    expected = torch.tensor([0.1 ** (1 / 3) / 0.1, 0.125 ** (-2 / 3) / 3, 0.9 ** (-2 / 3) / 3,
                             1.5 ** (-2 / 3) / 3, 0.0])
    assert torch.allclose(estimators.SURROGATES["reste"](x, 1.0), expected)
    # the authors' schedule (main.py, ReSTE): o = 1 + (1 - cos(p pi / 2)) (3 - 1); halfway o = 3 -
    # sqrt(2), 1.586, not the linear 2; then (1/o)|x|^(1/o - 1)
    for p in (0.25, 0.5, 0.75):
        o = 1 + (1 - math.cos(p * math.pi / 2)) * 2
        got = estimators.SURROGATES["reste"](torch.tensor([0.64]), p).item()
        assert math.isclose(got, 0.64 ** (1 / o - 1) / o, rel_tol=1e-5), (p, got)
    assert math.isclose(1 + (1 - math.cos(math.pi / 4)) * 2, 1.586, abs_tol=1e-3)


def test_ternarize_with_identity_ste_passes_gradient_through():
    x = torch.tensor([0.5, -0.05, -0.7], requires_grad=True)
    y = estimators.ternarize(x, 0.1)
    assert y.tolist() == [1.0, 0.0, -1.0]
    y.backward(torch.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


def test_clip_factor_clips_latent_weights_to_f_std():
    layer = quantized_linear("twn", torch.tensor([[0.0, 0.1, -0.1, 3.0]]))
    bound = 1.0 * layer.weight.std().item()
    qlayers.after_step(nn.Sequential(layer), clip_factor=1.0)
    assert math.isclose(layer.weight.max().item(), bound, rel_tol=1e-6)
    assert math.isclose(layer.weight[0, 1].item(), 0.1, rel_tol=1e-6)  # inside the bound: untouched


@pytest.mark.parametrize("method,wbits,abits,ste,problem", [
    ("ttq", 4, None, None, "fixed bit widths; --wbits applies to: twn, xnor, dorefa, qnn"),
    ("twn", None, 1, None, "fixed bit widths; --abits applies to: xnor, dorefa, qnn"),
    ("twn", 4, None, None, "does not support --wbits 4; choose from 2, 32"),
    ("xnor", 2, None, None, "does not support --wbits 2"),
    ("dorefa", 4, 16, None, "does not support --abits 16"),
    ("ttq", None, None, "tanh", "--ste applies to"),
    ("qnn", 1, 1, "nope", "unknown STE"),
])
def test_unsupported_combinations_are_named(method, wbits, abits, ste, problem):
    assert problem in qlayers.check_options(method, wbits, abits, ste)


def test_unsupported_bits_on_the_command_line_exit_2(tmp_path):
    r = run_script("train.py", "--quant", "bitnet", "--abits", "4", "--dataset", "synthetic",
                   "--device", "cpu", "--out", tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--abits" in r.stderr


TABLE = [("qnn", 8, 8), ("qnn", 4, 4), ("qnn", 2, 2), ("qnn", 1, 1), ("qnn", 2, 1), ("qnn", 1, 2),
         ("dorefa", 8, 8), ("dorefa", 4, 4), ("dorefa", 2, 32), ("dorefa", 1, 32), ("dorefa", 2, 2),
         ("dorefa", 2, 1), ("dorefa", 1, 2), ("dorefa", 1, 1), ("xnor", 1, 32), ("xnor", 1, 1),
         ("twn", None, None), ("ttq", None, None), ("bc", None, None), ("sr", None, None),
         ("bitnet", None, None)]


@pytest.mark.parametrize("method,wbits,abits", TABLE)
@pytest.mark.parametrize("model_name", ["lenet5", "resnet20"])
def test_every_method_and_bit_width_trains_a_few_steps(method, wbits, abits, model_name):
    torch.manual_seed(0)
    channels, size = (1, 28) if model_name == "lenet5" else (3, 8)
    model = models.build_model(model_name, 10, size, channels)
    # as the results table does
    qlayers.quantize_model(model, method, keep=["conv1", "fc"], wbits=wbits, abits=abits)
    layers = qlayers.quantized_layers(model)
    before = [m.weight.detach().clone() for m in layers]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(8, channels, size, size), torch.arange(8) % 10
    losses = []
    for step in range(3):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        # the gradient reaches every quantized layer's latent weights through its quantizer
        if step == 0:
            assert all(m.weight.grad is not None and m.weight.grad.abs().sum() > 0 for m in layers)
        optimizer.step()
        qlayers.after_step(model)
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses) and len(set(losses)) > 1
    assert all(not torch.equal(b, m.weight) for b, m in zip(before, layers))
