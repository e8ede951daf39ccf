"""Each quantizer's forward values and gradients against its paper's equations, on hand-made
tensors; activations kept as one-byte codes, also under bf16, and BitNet's layer norm kernel."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import estimators
import kernels
import qlayers
import quant


def test_ste_passes_value_forward_and_gradient_unchanged():
    x = torch.tensor([0.3, -1.2, 2.0], requires_grad=True)
    y = estimators.ste(x, torch.round(x))
    assert y.tolist() == [0.0, -1.0, 2.0]
    y.backward(torch.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


def test_ternarize_absmean_matches_bitnet_equation():
    w = torch.tensor([0.9, -0.05, 0.3, -0.6, 0.0, 1.5])
    gamma = (0.9 + 0.05 + 0.3 + 0.6 + 0.0 + 1.5) / 6  # mean|W| = 0.55833
    # W/gamma = [1.61, -0.09, 0.54, -1.07, 0, 2.69] -> round, clip to [-1, 1] -> [1, 0, 1, -1, 0, 1]
    expected = torch.tensor([1.0, 0.0, 1.0, -1.0, 0.0, 1.0]) * gamma
    assert torch.allclose(quant.ternarize_absmean(w), expected, atol=1e-6)


def test_absmax_8bit_has_at_most_256_levels_and_keeps_the_max():
    x = torch.randn(4, 3, 8, 8) * torch.tensor([1.0, 10.0, 0.1, 3.0]).view(4, 1, 1, 1)
    q = quant.quantize_absmax(x, 8)[0]
    for sample, qs in zip(x, q):
        gamma = sample.abs().max()
        levels = torch.unique(torch.round(qs * 127 / gamma))
        assert len(torch.unique(qs)) <= 256 and levels.abs().max() == 127
        assert torch.allclose(qs.abs().max(), gamma)
        # rounding error at most half a step
        assert (qs - sample).abs().max() <= gamma / 127 / 2 + 1e-6


def test_absmax_hand_example():
    x = torch.tensor([[1.0, -0.5, 0.26, 0.0]])  # gamma = 1, step 1/127
    # round(-63.5) = -64 (half to even), round(33.02) = 33
    expected = torch.tensor([[127, -64, 33, 0]]) / 127
    assert torch.allclose(quant.quantize_absmax(x, 8)[0], expected)


def test_bitnet_layer_forward_and_straight_through_gradient():
    layer = nn.Linear(4, 2, bias=False)
    layer.weight.data = torch.tensor([[0.9, -0.05, 0.3, -0.6], [0.0, 1.5, -1.5, 0.2]])
    qlayers.quantize_model(nn.Sequential(layer), "bitnet", sub_ln=False)
    x = torch.tensor([[1.0, -0.5, 0.25, 2.0]])
    gamma = layer.weight.abs().mean()
    w_q = quant.ternarize_absmean(layer.weight.detach())
    x_q = quant.quantize_absmax(x, 8)[0]
    out = layer(x)
    assert torch.allclose(out, x_q @ w_q.T, atol=1e-6)
    assert set((w_q / gamma).round().unique().tolist()) <= {-1.0, 0.0, 1.0}
    out.sum().backward()
    # straight-through: dL/dW = dL/dW_q = x_q summed over outputs, as if the quantizer were the
    # identity
    assert torch.allclose(layer.weight.grad, x_q.expand(2, 4), atol=1e-6)


def test_bitnet_sub_layernorm_normalizes_each_sample_before_quantizing():
    conv = nn.Conv2d(2, 1, 1, bias=False)
    qlayers.quantize_model(nn.Sequential(conv), "bitnet")
    x = torch.randn(3, 2, 4, 4) * 5 + 2
    centered = x - x.mean(dim=(1, 2, 3), keepdim=True)
    normalized = centered / (x.var(dim=(1, 2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
    assert torch.allclose(conv.quantizer.input(x)[0], quant.quantize_absmax(normalized, 8)[0],
                          atol=1e-5)


def test_ttq_forward_and_paper_gradients():
    w = torch.tensor([0.8, -0.02, 0.03, -0.5, 1.0, -1.0], requires_grad=True)
    wp = torch.tensor(1.5, requires_grad=True)
    wn = torch.tensor(0.7, requires_grad=True)
    delta = 0.05 * 1.0  # t * max|w|
    one = torch.tensor(1.0)  # Wp0 = Wn0 = 1: the paper's scales themselves are trained
    out = quant.TernarizeTTQ.apply(w, wp, wn, one, one, delta)
    assert torch.allclose(out, torch.tensor([1.5, 0.0, 0.0, -0.7, 1.5, -0.7]))
    g = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    out.backward(g)
    # dL/dWp = sum of g over I_p = {0, 4}; dL/dWn = -(sum of g over I_n = {3, 5}) since w_t = -Wn
    # there
    assert abs(wp.grad.item() - (0.1 + 0.5)) < 1e-6
    assert abs(wn.grad.item() - -(0.4 + 0.6)) < 1e-6
    # latent gradient scaled by Wp on I_p, 1 on I_z, Wn on I_n
    expected = [0.1 * 1.5, 0.2, 0.3, 0.4 * 0.7, 0.5 * 1.5, 0.6 * 0.7]
    assert torch.allclose(w.grad, torch.tensor(expected))


def test_ttq_layer_threshold_is_t_times_max_abs_weight():
    conv = nn.Conv2d(1, 1, (1, 5), bias=False)
    conv.weight.data = torch.tensor([0.5, -0.2, 0.09, -0.11, 2.0]).view(1, 1, 1, 5)
    qlayers.quantize_model(nn.Sequential(conv), "ttq", ttq_threshold=0.05)  # delta = 0.1
    conv.quantizer.sp.data.fill_(2.0 / conv.quantizer.wp0.item())  # Wp = Wp0 * sp = 2
    conv.quantizer.sn.data.fill_(3.0 / conv.quantizer.wn0.item())
    assert torch.allclose(conv.quantizer.weight(conv.weight).flatten(),
                          torch.tensor([2.0, -3.0, 0.0, -3.0, 2.0]))


def test_keep_leaves_named_layers_and_their_children_in_full_precision():
    import models
    model = models.build_model("resnet18", 10)
    qlayers.quantize_model(model, "bitnet", keep=["conv1", "layer4"])
    assert type(model.conv1) is nn.Conv2d and type(model.layer4[0].conv1) is nn.Conv2d
    assert type(model.layer1[0].conv1) is qlayers.QConv2d and type(model.fc) is qlayers.QLinear


def test_model_size_counts_ternary_weights_at_two_bits():
    model = nn.Sequential(nn.Linear(100, 10, bias=False), nn.Linear(10, 2))
    qlayers.quantize_model(model, "ttq", keep=["1"])
    params, quantized, deployed, fp32 = qlayers.model_size(model)
    # 1000 ternary weights at 2 bits + (sp, sn) + 22 kept parameters at 32 bits
    assert (params, quantized) == (1000 + 2 + 22, 1000)
    assert deployed == (1000 * 2 + 24 * 32) // 8 and fp32 == 4 * 1024


def test_conv_from_codes_has_the_gradients_of_a_plain_conv_on_the_dequantized_input():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    codes = torch.randint(-127, 128, (2, 4, 7, 7), dtype=torch.int8)
    scale = torch.rand(2, 1, 1, 1) / 127
    x_q = (codes.float() * scale).requires_grad_()
    grad = torch.randn(2, 6, 4, 4)
    torch.autograd.backward(F.conv2d(x_q, conv.weight, conv.bias, 2, 1, 1, 2), grad)
    expected = [t.grad.clone() for t in (x_q, conv.weight, conv.bias)]
    for t in (x_q, conv.weight, conv.bias):
        t.grad = None
    torch.autograd.backward(kernels.ConvFromCodes.apply(x_q, codes, scale, conv.weight, conv.bias,
                                                        conv.stride, conv.padding, conv.dilation,
                                                        conv.groups), grad)
    for got, want in zip((x_q.grad, conv.weight.grad, conv.bias.grad), expected):
        assert torch.allclose(got, want, atol=1e-5)


def saved_bytes(method, **opts):
    """Bytes of the distinct tensors a ResNet-20 forward keeps for its backward, parameters
    aside."""
    import models
    torch.manual_seed(0)
    model = qlayers.quantize_model(models.build_model("resnet20", 10), method, **opts)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}

    def pack(t):
        if t.untyped_storage().data_ptr() not in params:
            kept[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        # a batch large enough that activations dominate, as in training
        model(torch.randn(64, 3, 32, 32))
    return sum(kept.values())


@pytest.fixture(scope="module")
def fp32_saved_bytes():
    return saved_bytes("fp32")


@pytest.mark.parametrize("method,opts,bound", [
    ("bitnet", {}, 1.2),
    ("dorefa", dict(wbits=2, abits=2), 1.2),
    ("qnn", dict(wbits=2, abits=2), 1.2),
    ("xnor", dict(wbits=1, abits=1), 1.3),
    ("ttq", {}, 1.05),
    ("twn", {}, 1.05),
])
def test_quantized_activations_are_kept_as_one_byte_codes(method, opts, bound, fp32_saved_bytes):
    # a float copy of every quantized conv input would add 4 bytes per value: about 1.5x FP32 (2x
    # for XNOR)
    assert saved_bytes(method, **opts) <= bound * fp32_saved_bytes


def test_absmax_codes_stay_in_int8_range_in_bfloat16():
    # in bf16, x * (127 / gamma) can round above 127 at the max: the Clip keeps it, so int8 never
    # wraps
    x = torch.randn(64, 3, 8, 8).bfloat16().requires_grad_()
    x_q, codes, scale = quant.quantize_absmax(x)
    assert codes.dtype == torch.int8 and codes.max() == 127 and codes.min() >= -127
    assert torch.equal(x_q, codes.to(torch.bfloat16) * scale)


@pytest.mark.parametrize("method", ["dorefa", "qnn"])
def test_eight_bit_activation_codes_under_bf16_autocast_are_those_of_fp32(method):
    # a layer under autocast hands the next quantizer a bf16 tensor; x * 255 formed in bf16 (spacing
    # 0.5 in [64, 128)) would round a second time: the quantizer's arithmetic stays in fp32
    x = torch.linspace(-0.1, 1.1, 4096).to(torch.bfloat16)
    layer = qlayers.quantize_layer(nn.Linear(4096, 2), method, wbits=8, abits=8)
    reference = layer.quantizer.input(x.float())[1]
    with torch.autocast("cpu", torch.bfloat16):
        codes = layer.quantizer.input(x)[1]
        conv = qlayers.quantize_layer(nn.Conv2d(1, 1, 1, bias=False), method, wbits=32, abits=8)
        conv.weight.data.fill_(1.0)
        y = conv(x.view(1, 1, 64, 64))
    assert torch.equal(codes, reference)
    # the conv computes with the exact codes and scales its output: one rounding of code * scale, in
    # bf16
    _, codes_2d, scale = conv.quantizer.input(x.float().view(1, 1, 64, 64))
    assert torch.equal(y, (codes_2d.float().to(torch.bfloat16) * scale).to(y.dtype))


def test_bitnet_layer_norm_keeps_channels_last_and_matches_torchs_value_and_gradient():
    x = (torch.randn(3, 4, 5, 5, dtype=torch.float64)
         .contiguous(memory_format=torch.channels_last).requires_grad_())
    g = torch.randn(3, 4, 5, 5, dtype=torch.float64)
    y = kernels.LayerNormOverSample.apply(x)
    assert y.is_contiguous(memory_format=torch.channels_last)
    y.backward(g)
    x2 = x.detach().clone().requires_grad_()
    reference = F.layer_norm(x2, x2.shape[1:])
    reference.backward(g)
    assert torch.allclose(y, reference, atol=1e-10) and torch.allclose(x.grad, x2.grad, atol=1e-10)
