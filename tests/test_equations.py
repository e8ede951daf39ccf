"""Gradients and edge cases of the quantizers against their papers' equations, in float64 where it
matters: values at thresholds, the gradients the papers (or the authors' code) define, XNOR-Net's
output scale K, the start of TTQ's scales, and option combinations with no effect."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import estimators
import models
import qlayers
import quant
import summary
from conftest import run_script


def quantized(layer, method, **opts):
    """One hidden layer, quantized (a model's first layer takes the image as it is)."""
    return qlayers.quantize_layer(layer, method, **opts)


def linear(weight, method, **opts):
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=False).double()
    layer.weight.data = weight.clone().double()
    return quantized(layer, method, **opts)


def latent_grad(layer, g):
    """dL/dW for L = sum(g * W_q): the gradient the quantizer passes to the latent weights."""
    layer.weight.grad = None
    (layer.quantizer.weight(layer.weight) * g).sum().backward()
    return layer.weight.grad


def test_sign_of_zero_and_negative_zero_is_plus_one():
    x = torch.tensor([-0.0, 0.0, -1e-30, 2.0, -3.0])
    assert estimators.sign(x).tolist() == [1.0, 1.0, -1.0, 1.0, -1.0]
    assert estimators.binarize(x).tolist() == [1.0, 1.0, -1.0, 1.0, -1.0]


def test_dorefa_one_bit_weight_gradient_passes_straight_through():
    # DoReFa eq. 7-8: r_o = sign(r_i) E(|r_i|), dc/dr_i = dc/dr_o (not E(|r_i|) dc/dr_o)
    w = torch.tensor([[0.2, -0.05, 0.0, -0.35]], dtype=torch.float64)
    layer = linear(w, "dorefa", wbits=1)
    assert torch.allclose(layer.quantizer.weight(layer.weight),
                          torch.tensor([[1.0, -1.0, 1.0, -1.0]]).double() * 0.15)
    g = torch.tensor([[1.0, -2.0, 3.0, 0.5]], dtype=torch.float64)
    assert torch.equal(latent_grad(layer, g), g)


def test_qnn_two_bit_weights_take_four_levels_with_the_authors_step():
    # the authors' Quantize: step = (max - min) / (2^k - 1), levels clip(round(w / step), -(2^(k-1)
    # - 1), 2^(k-1))
    w = torch.tensor([[0.3, -0.6, 0.05, 0.9, -0.25]], dtype=torch.float64)
    layer = linear(w, "qnn", wbits=2, abits=32)
    step = (0.9 - -0.6) / 3  # 0.5: w / step = 0.6, -1.2, 0.1, 1.8, -0.5
    # round(-0.5) = 0 (half to even)
    expected = torch.tensor([[1, -1, 0, 2, 0]], dtype=torch.float64) * step
    assert torch.allclose(layer.quantizer.weight(layer.weight), expected)
    # {-1, 0, 1, 2} * 2/3
    assert len(layer.quantizer.weight(torch.linspace(-1, 1, 101)).unique()) == 4
    g = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]], dtype=torch.float64)
    assert torch.equal(latent_grad(layer, g), g)  # the authors' STE: the identity


def test_qnn_kbit_activations_range_over_their_levels():
    x = torch.tensor([-1.0, -0.2, 0.0, 0.4, 1.0], dtype=torch.float64, requires_grad=True)
    # span 2 (hardtanh's [-1, 1]), step 2/3: x / step = -1.5, -0.3, 0, 0.6, 1.5
    x_q, codes, scale = quant.quantize_linear(x, 2, torch.tensor(2.0))
    assert codes.tolist() == [-1, 0, 0, 1, 2] and math.isclose(scale.item(), 2 / 3, rel_tol=1e-6)
    # in fp32 too: +1 -> 1.5 -> 2 (half to even), as the authors' x * 3/2; x / fp32(2/3) gave
    # 1.4999999 -> 1
    fp32 = quant.quantize_linear(x.detach().float(), 2, torch.tensor(2.0))[1]
    assert fp32.tolist() == [-1, 0, 0, 1, 2]
    assert torch.allclose(x_q, torch.tensor([-1, 0, 0, 1, 2], dtype=torch.float64) * 2 / 3)
    x_q.backward(torch.full_like(x, 2.0))
    assert x.grad.tolist() == [2.0] * 5
    # 8 bits: step span / 255 and levels clipped to [-127, 128], one more above zero than below
    assert quant.quantize_linear(torch.tensor([-1.0, 0.0, 2.0]), 8,
                                 torch.tensor(3.0))[1].tolist() == [-85, 0, 128]
    eight = quant.quantize_linear(torch.tensor([-2.0, 0.0, 1.0]), 8, torch.tensor(3.0))[1]
    assert eight.dtype == torch.int16 and eight.tolist() == [-127, 0, 85]


def test_qnn_latent_weights_are_clipped_to_one_after_every_step():
    # BNN Algorithm 1: W <- clip(W - lr * g, -1, 1); with the clipped STE an escaped weight never
    # comes back
    for wbits, bound in ((1, 1.0), (2, 1.0), (32, None)):
        layer = quantized(nn.Linear(4, 2, bias=False), "qnn", wbits=wbits, abits=32)
        layer.weight.data = torch.tensor([[0.9, -0.5, 0.2, -0.95], [0.1, 0.3, -0.4, 0.8]])
        optimizer = torch.optim.SGD(layer.parameters(), lr=1.0)
        # pushes weights by -1, +1, 0, +1
        layer(torch.tensor([[-1.0, 1.0, 0.0, 1.0]])).sum().backward()
        optimizer.step()
        qlayers.after_step(nn.Sequential(layer))
        top = layer.weight.abs().max().item()
        assert top == bound if bound else top > 1.5


def quantized_inputs(model, x):
    """The activation each quantized layer computes with, by layer name, for one forward pass."""
    seen, layers = {}, qlayers.quantized_layers(model)

    def keep(name):
        # returns None: a hook's return value would replace the layer's output
        def hook(m, inputs, output):
            seen[name] = m.quantizer.input(inputs[0])[0]
        return hook

    for name, m in model.named_modules():
        if m in layers:
            m.register_forward_hook(keep(name))
    model(x)
    return seen


# each model class
@pytest.mark.parametrize("name", ["lenet5", "alexnet", "resnet18", "resnet50", "resnet20", "vgg16"])
def test_qnn_binary_activations_of_hidden_layers_take_both_signs(name):
    # BNN/QNN nets have no ReLU: sign(x) after a ReLU would be +1 everywhere and every layer but the
    # first blind
    torch.manual_seed(0)
    channels, size = (1,
                      28) if name == "lenet5" else (3, {"alexnet": 224, "vgg16": 32}.get(name, 16))
    model = qlayers.quantize_model(models.build_model(name, 10, size, channels), "qnn", wbits=1,
                                   abits=1)
    assert not any(isinstance(m, nn.ReLU) for m in model.modules())
    image = torch.randn(4, channels, size, size)
    seen = quantized_inputs(model, image)
    first = next(iter(seen))
    assert len(seen) == len(qlayers.quantized_layers(model)) and first == "conv1"
    # BNN/QNN: the first layer sees the (8-bit) image, not its signs
    assert torch.equal(seen.pop(first), image)
    assert all(set(x.unique().tolist()) == {-1.0, 1.0} for x in seen.values())


def test_qnn_hardtanh_matches_torch_in_value_and_gradient():
    x = torch.tensor([-2.0, -1.0, -0.3, 0.0, 0.7, 1.0, 1.5], dtype=torch.float64,
                     requires_grad=True)
    y = quant.Hardtanh()(x)
    y.backward(torch.arange(1.0, 8.0, dtype=torch.float64))
    assert y.tolist() == [-1.0, -1.0, -0.3, 0.0, 0.7, 1.0, 1.0]
    # torch's hardtanh: bounds excluded
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 4.0, 5.0, 0.0, 0.0]
    x2 = x.detach().clone().requires_grad_()
    F.hardtanh(x2).backward(torch.arange(1.0, 8.0, dtype=torch.float64))
    assert torch.equal(x.grad, x2.grad)


def test_qnn_kbit_activations_use_the_negative_levels_and_full_precision_ones_keep_relu():
    torch.manual_seed(0)
    x = torch.randn(4, 1, 28, 28)
    lenet = models.build_model("lenet5", 10, 28, 1)
    two_bit = quantized_inputs(qlayers.quantize_model(lenet, "qnn", abits=2, wbits=2), x)
    del two_bit["conv1"]  # the image
    assert all(set((v / v.max() * 2).round().unique().tolist()) == {-1.0, 0.0, 1.0, 2.0}
               for v in two_bit.values())
    full = qlayers.quantize_model(models.build_model("lenet5", 10, 28, 1), "qnn", wbits=2, abits=32)
    assert any(isinstance(m, nn.ReLU) for m in full.modules())
    hidden = {k: v for k, v in quantized_inputs(full, x).items() if k != "conv1"}
    assert all(v.min() == 0 for v in hidden.values())


@pytest.mark.parametrize("method,bits", [("dorefa", 2), ("xnor", 1)])
def test_a_quantized_first_layer_takes_the_image_as_it_is(method, bits):
    # DoReFa's clip(x, 0, 1) would drop a normalized image's negative half, XNOR-Net's sign keep 1
    # bit of it: the first layer's weights are quantized, the image enters as QNN's does
    torch.manual_seed(0)
    x = torch.randn(4, 1, 28, 28)
    model = qlayers.quantize_model(models.build_model("lenet5", 10, 28, 1), method, wbits=bits,
                                   abits=bits)
    layers = dict(model.named_modules())
    seen_bits = {n: summary.activation_bits(layers[n].quantizer) for n in ("conv1", "conv2")}
    assert seen_bits == {"conv1": 32, "conv2": bits}
    if method == "xnor":  # no batch norm and sign: alpha sign(W) on the image itself (BWN)
        conv1 = layers["conv1"]
        assert conv1.quantizer.bn is None and layers["conv2"].quantizer.bn is not None
        alpha = conv1.weight.abs().mean(dim=(1, 2, 3), keepdim=True)
        expected = F.conv2d(x, alpha * torch.sign(conv1.weight), conv1.bias, conv1.stride,
                            conv1.padding)
        assert torch.allclose(conv1(x), expected, atol=1e-6)
        return
    seen = quantized_inputs(model, x)
    assert torch.equal(seen.pop("conv1"), x)
    assert all(torch.equal(v * 3, (v * 3).round()) and v.min() >= 0 for v in seen.values())


def weights_with_one_at(sign):
    """[1, -1, 0.5, 0, x] with x = sign * delta exactly, delta = 0.7 mean|W| (TWN eq. 10; x moves
    the mean: iterate)."""
    w = torch.tensor([[1.0, -1.0, 0.5, 0.0, 0.0]], dtype=torch.float64)
    for _ in range(50):
        w[0, 4] = sign * 0.7 * w.abs().mean()
    assert w[0, 4].item() == sign * (0.7 * w.abs().mean()).item()
    return w


def test_twn_weight_exactly_at_plus_delta_is_zero():
    # TWN eq. 3: W_t = +alpha where W > delta, -alpha where W < -delta, 0 where |W| <= delta
    layer = linear(weights_with_one_at(+1), "twn")
    # the mean of |W_i| over |W_i| > delta: the weight at delta is not above it
    alpha = (1.0 + 1.0 + 0.5) / 3
    assert torch.allclose(layer.quantizer.weight(layer.weight),
                          torch.tensor([[alpha, -alpha, alpha, 0.0, 0.0]]).double())


def test_twn_weight_at_minus_delta_is_zero_and_gradient_passes_without_alpha():
    layer = linear(weights_with_one_at(-1), "twn")
    assert layer.quantizer.weight(layer.weight)[0, 4].item() == 0.0
    # the authors' code passes dL/dW_t to W unchanged (the identity STE), not alpha * dL/dW_t
    g = torch.tensor([[1.0, -2.0, 3.0, 4.0, 5.0]], dtype=torch.float64)
    assert torch.equal(latent_grad(layer, g), g)


def test_ternarize_thresholds_carry_half_the_surrogate_each():
    x = torch.tensor([0.1, 0.5, 1.4, -0.5], dtype=torch.float64, requires_grad=True)
    y = estimators.ternarize(x, torch.tensor(0.5, dtype=torch.float64), "clipped")
    assert y.tolist() == [0.0, 0.0, 1.0, 0.0]
    y.sum().backward()
    # clipped: (1_{|x - 0.5| <= 1} + 1_{|x + 0.5| <= 1}) / 2
    assert x.grad.tolist() == [1.0, 1.0, 0.5, 1.0]


# the area under each surrogate over [-40, 40] at the end of training: sign jumps by 2; triangle and
# gaussian come from spiking networks (a unit step); ReSTE's power function reaches +-t^(1/o) at its
# cut-off t = 1.5 (o = 3)
AREAS = {"triangle": 1.0, "gaussian": 1.0, "reste": 2 * 1.5 ** (1 / 3),
         "arctan": 4 / math.pi * math.atan(40 * math.pi)}


@pytest.mark.parametrize("name", sorted(set(estimators.SURROGATES) - {"identity"}))
def test_surrogate_areas(name):
    x = torch.linspace(-40, 40, 800001, dtype=torch.float64)
    area = torch.trapezoid(estimators.SURROGATES[name](x, 1.0).double(), x).item()
    assert math.isclose(area, AREAS.get(name, 2.0), rel_tol=5e-4), (name, area)


def box_sum(a, k, pad):
    """sum of a (H x W) over every k x k window of its zero-padded copy, stride 1, by hand."""
    h, w = len(a), len(a[0])
    padded = [[0.0] * (w + 2 * pad)
              for _ in range(pad)] + [[0.0] * pad + row + [0.0] * pad for row in a] + \
             [[0.0] * (w + 2 * pad) for _ in range(pad)]
    return [[sum(padded[i + di][j + dj] for di in range(k) for dj in range(k))
             for j in range(w + 2 * pad - k + 1)]
            for i in range(h + 2 * pad - k + 1)]


def test_xnor_conv_is_binary_conv_times_k_alpha_as_in_eq_11():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 2, padding=1, bias=True).double()
    quantized(conv, "xnor", wbits=1, abits=1)
    conv.quantizer.double().eval()  # BN with running statistics 0 and 1: I / sqrt(1 + eps)
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    i = x / math.sqrt(1 + 1e-5)
    alpha = conv.weight.abs().mean(dim=(1, 2, 3))
    # XNOR + popcount
    binary = F.conv2d(estimators.sign(i), estimators.sign(conv.weight), padding=1)
    a = i.abs().mean(dim=1)[0].tolist()  # A: the channel mean of |I| at each position
    k = torch.tensor(box_sum(a, 2, 1), dtype=torch.float64) / 4  # K = A * k, k the 2x2 box filter
    expected = binary * k * alpha.view(1, 3, 1, 1) + conv.bias.view(1, 3, 1, 1)
    assert torch.allclose(conv(x), expected, atol=1e-12)
    # the form it replaces, beta (.) sign(I) convolved with alpha sign(W), differs at the padded
    # border
    old = F.conv2d(i.abs().mean(1, keepdim=True) * estimators.sign(i),
                   estimators.sign(conv.weight) * alpha.view(3, 1, 1, 1), conv.bias, padding=1)
    assert not torch.allclose(conv(x), old, atol=1e-3)


def test_xnor_weight_gradient_is_the_papers_with_its_one_over_n_term():
    # XNOR-Net sec. 3.1: dC/dW_i = dC/dW~_i (1/n + alpha dsign/dW_i), dsign/dW = 1_{|W| <= 1} (the
    # clipped STE)
    w = torch.tensor([[0.5, -1.5, 0.25, -0.75], [2.0, 1.0, -0.5, 0.5]], dtype=torch.float64)
    layer = linear(w, "xnor", wbits=1, abits=32)
    alpha = [(0.5 + 1.5 + 0.25 + 0.75) / 4, (2.0 + 1.0 + 0.5 + 0.5) / 4]  # 0.75, 1.0
    g = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.0, 2.0, -3.0, 4.0]], dtype=torch.float64)
    expected = [[g[r, c].item() * (1 / 4 + alpha[r] * (abs(w[r, c].item()) <= 1)) for c in range(4)]
                for r in range(2)]
    assert torch.allclose(latent_grad(layer, g), torch.tensor(expected, dtype=torch.float64))
    assert torch.allclose(layer.quantizer.weight(layer.weight),
                          torch.tensor(alpha).double()[:, None] * w.sign())


@pytest.mark.parametrize("method,bits,value", [("dorefa", 2, 1 / 3), ("dorefa", 8, 1 / 255),
                                               ("qnn", 2, 0.0), ("qnn", 8, 0.0)])
def test_an_all_zero_layer_quantizes_to_finite_weights(method, bits, value):
    # DoReFa: tanh(0) / (2 * 0) and QNN: 0 / (max - min) are 0/0; a zero maximum counts as 1, so the
    # formula's own value at w = 0 comes out: DoReFa 2 quantize_k(1/2) - 1 (round(1.5) = 2 of 3,
    # round(127.5) = 128 of 255), QNN 0
    layer = linear(torch.zeros(2, 3, dtype=torch.float64), method, wbits=bits, abits=32)
    w_q = layer.quantizer.weight(layer.weight)
    assert torch.allclose(w_q, torch.full_like(w_q, value))
    w_q.sum().backward()
    assert torch.isfinite(layer.weight.grad).all()


def test_xnor_trains_through_k_with_its_ste():
    conv = quantized(nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False), "xnor", wbits=1, abits=1)
    x = (torch.randn(4, 2, 7, 7) * 0.5).requires_grad_()
    y = conv(x)
    assert y.shape == (4, 3, 4, 4)
    y.square().sum().backward()
    assert x.grad.abs().sum() > 0 and conv.weight.grad.abs().sum() > 0


def test_ttq_scales_start_at_the_mean_magnitude_of_each_set_from_scratch():
    w = torch.tensor([[1.0, 0.5, -0.2, -0.4, 0.02, -0.03]])
    # delta = 0.05: I_p = {1.0, 0.5}, I_n = {-0.2, -0.4}
    layer = linear(w, "ttq", ttq_threshold=0.05).float()
    q = layer.quantizer
    wp, wn = q.wp0 * q.sp, q.wn0 * q.sn
    assert math.isclose(wp.item(), 0.75,
                        rel_tol=1e-6) and math.isclose(wn.item(), 0.3, rel_tol=1e-6)
    assert torch.allclose(layer.quantizer.weight(layer.weight),
                          torch.tensor([[0.75, 0.75, -0.3, -0.3, 0.0, 0.0]]))
    # the trained factors start at 1 and carry the paper's gradients in units of the start: dL/dsp =
    # Wp0 dL/dWp; the latent gradient is eq. 8's with sp, sn in place of Wp, Wn
    layer.quantizer.sp.data.fill_(2.0)
    g = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    (layer.quantizer.weight(layer.weight) * g).sum().backward()
    assert math.isclose(layer.quantizer.sp.grad.item(), 0.75 * (1 + 2), rel_tol=1e-6)
    assert math.isclose(layer.quantizer.sn.grad.item(), -0.3 * (3 + 4), rel_tol=1e-6)
    assert torch.allclose(layer.weight.grad, torch.tensor([[2.0 * 1, 2.0 * 2, 3.0, 4.0, 5.0, 6.0]]))
    finetuned = linear(w, "ttq", ttq_threshold=0.05, init_from="fp32/best.pt")
    q = finetuned.quantizer
    assert [(q.wp0 * q.sp).item(), (q.wn0 * q.sn).item()] == [1.0, 1.0]  # the authors' start


def test_ttq_from_scratch_starts_at_the_loss_of_an_untrained_network():
    # with scales at 1.0 the ternary fc (+-1 over 512 inputs) gave logits of tens and a loss of 30
    torch.manual_seed(0)
    model = qlayers.quantize_model(models.build_model("resnet18", 10, 16), "ttq")
    loss = F.cross_entropy(model(torch.randn(16, 3, 16, 16)), torch.arange(16) % 10).item()
    assert loss < 2 * math.log(10)


@pytest.mark.parametrize("flags,problem", [
    (["--quant", "qnn", "--wbits", "2", "--abits", "2", "--ste", "tanh"], "qnn's --ste"),
    (["--quant", "bc", "--stochastic", "--ste", "tanh"], "bc --stochastic"),
])
def test_an_ste_that_would_be_ignored_is_refused(flags, problem, tmp_path):
    r = run_script("train.py", *flags, "--dataset", "synthetic", "--device", "cpu", "--epochs",
                   "1", "--steps-per-epoch", "1", "--out", tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and problem in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_qnn_ste_is_accepted_where_a_sign_uses_it():
    assert (qlayers.check_options("qnn", 1, 2, "tanh") is None
            and qlayers.check_options("qnn", 2, 1, "tanh") is None)
