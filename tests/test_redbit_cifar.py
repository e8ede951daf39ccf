"""RedBit's CIFAR-10 setup for the results table: each network's parameter count worked out by hand
from RedBit's layer shapes, its blocks' order and shortcuts, the reflect-padded crop, and each
CIFAR-10 row of quant_table.sh built as train.py builds it, with the layers its method quantizes."""
import shlex

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import batches
import flags
import kernels
import models
import qlayers
import train
from test_phases import dry_run, flag, resolved

RESNETS = ("resnet20_redbit", "resnet20_redbit_preact", "resnet20_redbit_xnor",
           "resnet50_redbit", "resnet50_redbit_preact", "resnet50_redbit_xnor")


# ----------------------------------------------------------------------------- parameter counts
# A 3x3 conv holds 9 cin cout weights, a 1x1 conv cin cout, a BN 2 c, a linear in out; no biases.
# Post-activation (RedBit's Baseline/, QNN/, TWN/, TTQ/ models/ResNet.py, ResNet_cifar):
#   stem conv 3->16 432 + BN 32 = 464
#   a block of 16 -> 16: 2 x 2,304 + 2 x 32 = 4,672; of 32 -> 32: 2 x 9,216 + 2 x 64 = 18,560;
#   of 64 -> 64: 2 x 36,864 + 2 x 128 = 73,984
#   16 -> 32, stride 2: 4,608 + 9,216 + 2 x 64 + shortcut 512 + BN 64 = 14,528
#   32 -> 64, stride 2: 18,432 + 36,864 + 2 x 128 + shortcut 2,048 + BN 128 = 57,728
#   fc 64 -> 10: 640
#   ResNet-20 (n = 3): 464 + 3 x 4,672 + 14,528 + 2 x 18,560 + 57,728 + 2 x 73,984 + 640 = 272,464
#   ResNet-50 (n = 8): 464 + 8 x 4,672 + 14,528 + 7 x 18,560 + 57,728 + 7 x 73,984 + 640 = 758,544
# Pre-activation (DoReFa-Net/): a down-sampling block's first BN sees its input (BN(16) 32, BN(32)
#   64), its second the conv's output: 16 -> 32: 32 + 4,608 + 64 + 9,216 + 512 + 64 = 14,496;
#   32 -> 64: 64 + 18,432 + 128 + 36,864 + 2,048 + 128 = 57,664; the other blocks as above
#   ResNet-20: 272,464 - (14,528 - 14,496) - (57,728 - 57,664) = 272,464 - 32 - 64 = 272,368
#   ResNet-50: 758,544 - 96 = 758,448
# XNOR-Net/: as pre-activation, and the shortcut's BN normalizes its input (BN(16) 32, BN(32) 64):
#   16 -> 32: 32 + 4,608 + 64 + 9,216 + 32 + 512 = 14,464; 32 -> 64: 64 + 18,432 + 128 + 36,864
#   + 64 + 2,048 = 57,600: ResNet-20 272,464 - 64 - 128 = 272,272; ResNet-50 758,544 - 192 = 758,352
# VGG-16 (models/VGG.py, 'VGG16'): 3x3 convs 3->64 1,728; 64->64 36,864; 64->128 73,728; 128->128
#   147,456; 128->256 294,912; 2 x 256->256 1,179,648; 256->512 1,179,648; 5 x 512->512
#   11,796,480: 14,710,464 conv weights. BN after each conv: 2 x (2 x 64 + 2 x 128 + 3 x 256
#   + 6 x 512) = 8,448. Linear 512 x 4,096 + 4,096 x 4,096 + 4,096 x 10 = 18,915,328.
#   Total 14,710,464 + 8,448 + 18,915,328 = 33,634,240 (dropout adds none).
# XNOR-Net's VGG-16: BN(64) after conv1 (128), then BN of each other conv's input: 2 x (64 + 64
#   + 128 + 128 + 3 x 256 + 5 x 512) = 7,424: 14,710,464 + 128 + 7,424 + 18,915,328 = 33,633,344
@pytest.mark.parametrize("name,count", [
    ("resnet20_redbit", 272_464), ("resnet50_redbit", 758_544),
    ("resnet20_redbit_preact", 272_368), ("resnet50_redbit_preact", 758_448),
    ("resnet20_redbit_xnor", 272_272), ("resnet50_redbit_xnor", 758_352),
    ("vgg16_redbit", 33_634_240), ("vgg16_redbit_dropout", 33_634_240),
    ("vgg16_redbit_xnor", 33_633_344),
])
def test_each_network_holds_the_parameters_of_redbits_definition(name, count):
    with torch.device("meta"):
        model = models.build_model(name, 10, 32, 3)
    assert sum(p.numel() for p in model.parameters()) == count
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert all(m.bias is None for m in layers)  # RedBit's layers have no bias, the classifier too


def test_the_resnets_draw_their_convs_as_redbits_init_model():
    # N(0, sqrt(2 / n)), n = k * k * c_out: a 3x3 conv with 64 outputs has std sqrt(2 / 576)
    torch.manual_seed(0)
    model = models.build_model("resnet20_redbit", 10, 32, 3)
    weights = torch.cat([model.layer3[i].conv2.weight.flatten() for i in range(3)])
    assert abs(weights.std().item() / (2 / 576) ** 0.5 - 1) < 0.01 and abs(weights.mean()) < 1e-3


# ----------------------------------------------------------------------------- block order

def calls(module, x, patched=()):
    """(name, input, output) of each conv, linear, norm, ReLU and dropout the forward runs, in the
    order they finish; a quantized layer's own norm (its quantizer's) shows under its name."""
    kinds = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.ReLU, kernels.Hardtanh, nn.Dropout)
    seen, hooks = [], []
    for name, m in module.named_modules():
        if isinstance(m, kinds):
            hooks.append(m.register_forward_hook(
                lambda m, i, o, name=name: seen.append((name, i[0], o))))
    try:
        out = module(x)
    finally:
        for h in hooks:
            h.remove()
    return seen, out


def by_name(seen):
    return {name: (i, o) for name, i, o in seen}  # a shared ReLU: its last call


def test_post_activation_block_is_conv_bn_relu_conv_bn_plus_projection_then_relu():
    block = models.build_model("resnet20_redbit", 10, 32, 3).layer2[0].eval()
    x = torch.randn(2, 16, 8, 8)
    seen, out = calls(block, x)
    assert [n for n, _, _ in seen] == ["conv1", "bn1", "act", "conv2", "bn2",
                                       "shortcut.0", "shortcut.1", "act"]
    (_, relu1_in, relu1_out), (_, sum_in, _) = seen[2], seen[-1]
    step = by_name(seen)
    assert torch.equal(relu1_in, step["bn1"][1]) and torch.equal(step["conv2"][0], relu1_out)
    assert torch.equal(step["shortcut.0"][0], x)  # the projection sees the block's input
    assert torch.allclose(sum_in, step["bn2"][1] + step["shortcut.1"][1])
    assert torch.equal(out, F.relu(sum_in))


def test_dorefas_block_is_pre_activation_with_no_relu_after_the_sum():
    block = models.build_model("resnet20_redbit_preact", 10, 32, 3).layer2[0].eval()
    x = torch.randn(2, 16, 8, 8)
    seen, out = calls(block, x)
    assert [n for n, _, _ in seen] == ["bn1", "act", "conv1", "bn2", "act", "conv2",
                                       "shortcut.0", "shortcut.1"]
    step = by_name(seen)
    assert torch.equal(step["bn1"][0], x) and torch.equal(step["shortcut.0"][0], x)
    assert torch.equal(step["conv1"][0], F.relu(step["bn1"][1]))
    assert torch.allclose(out, step["conv2"][1] + step["shortcut.1"][1])
    assert (out < 0).any()  # no ReLU after the sum


def quantized(model_name, *argv):
    args = flags.resolve(flags.parse_args(
        ["--model", model_name, "--dataset", "cifar10", "--device", "cpu", *argv]))
    return train.build(args, 10, 32, 3)[0]


def test_xnors_block_is_bn_sign_binary_conv_relu_and_its_shortcut_bn_then_1x1_conv():
    model = quantized("resnet20_redbit_xnor", "--quant", "xnor", "--wbits", "1", "--abits", "1",
                      "--keep", "conv1,fc")
    block = model.layer2[0].eval()
    signs = []
    for conv in (block.conv1, block.conv2, block.shortcut[1]):  # what each binary conv computes on
        conv.apply_to = (lambda x_q, *rest, conv=conv, **kw:
                         signs.append(x_q) or type(conv).apply_to(conv, x_q, *rest, **kw))
    x = torch.randn(2, 16, 8, 8)
    seen, out = calls(block, x)
    model_steps = [n for n, _, _ in seen if "quantizer" not in n]
    assert model_steps == ["bn1", "conv1", "act", "bn2", "conv2", "shortcut.0", "shortcut.1",
                           "act"]
    step = by_name(seen)
    # BN -> (quant.XNOR's own BN, sign) -> binary conv -> ReLU: each binary conv's input is the
    # model's BN output, and it computes on signs
    assert torch.equal(step["conv1"][0], step["bn1"][1])
    assert torch.equal(step["conv1.quantizer.bn"][0], step["bn1"][1])
    assert torch.equal(step["bn2"][0], F.relu(step["conv1"][1]))
    assert torch.equal(step["conv2"][0], step["bn2"][1])
    assert torch.equal(step["shortcut.0"][0], x)
    assert torch.equal(step["shortcut.1"][0], step["shortcut.0"][1])
    assert len(signs) == 3 and all(set(s.unique().tolist()) <= {-1.0, 1.0} for s in signs)
    assert torch.allclose(out, F.relu(step["conv2"][1] + step["shortcut.1"][1]))


@pytest.mark.parametrize("name", ["vgg16_redbit", "vgg16_redbit_dropout", "vgg16_redbit_xnor"])
def test_each_vgg16_orders_its_layers_as_its_redbit_folder(name):
    model = models.build_model(name, 10, 32, 3).train()
    seen, _ = calls(model, torch.randn(4, 3, 32, 32))
    names = [n for n, _, _ in seen]
    if name == "vgg16_redbit_xnor":  # conv1-BN-ReLU, then BN of each conv's input
        assert names[:9] == ["conv1", "bn1", "act", "bn2", "conv2", "act", "bn3", "conv3", "act"]
        assert by_name(seen)["bn2"][0].shape[1] == 64 == model.bn2.num_features
    else:
        assert names[:6] == ["conv1", "bn1", "act", "conv2", "bn2", "act"]
    drop = ["drop"] if name == "vgg16_redbit_dropout" else []
    classifier = ["fc1", "act", *drop, "fc2", "act", *drop, "fc"]
    assert names[-len(classifier):] == classifier
    assert names.count("conv13") == 1 and not any(n.startswith("bn14") for n in names)
    # the classifier's input: the last conv's ReLU, max-pooled to 1x1, no BN between
    last_relu = [o for n, _, o in seen if n == "act"][12]
    assert torch.equal(by_name(seen)["fc1"][0], F.max_pool2d(last_relu, 2).flatten(1))
    if drop:
        dropped = [(i, o) for n, i, o in seen if n == "drop"]
        assert all((o[i > 0] == 0).any() and torch.equal(o[o != 0], 2 * i[o != 0])
                   for i, o in dropped)  # p = 0.5: half zeroed, the rest doubled


# ----------------------------------------------------------------------------- option-B shortcut

@pytest.mark.parametrize("name", RESNETS)
def test_a_1x1_conv_shortcut_only_where_the_shape_changes(name):
    model = models.build_model(name, 10, 32, 3)
    n = 3 if name.startswith("resnet20") else 8
    for stage, (cin, cout) in zip((model.layer1, model.layer2, model.layer3),
                                  ((16, 16), (16, 32), (32, 64))):
        assert len(stage) == n
        for j, block in enumerate(stage):
            if j > 0 or cin == cout:
                assert len(block.shortcut) == 0  # identity: the input itself
                continue
            kinds = [type(m) for m in block.shortcut]
            xnor = name.endswith("_xnor")  # Downsample: BN of the input, then the 1x1 conv
            assert kinds == ([nn.BatchNorm2d, nn.Conv2d] if xnor else [nn.Conv2d, nn.BatchNorm2d])
            conv, norm = (block.shortcut[1], block.shortcut[0]) if xnor else block.shortcut
            assert (conv.kernel_size, conv.stride, conv.in_channels, conv.out_channels) == \
                ((1, 1), (2, 2), cin, cout)
            assert norm.num_features == (cin if xnor else cout)
    projections = [m for m in model.modules()
                   if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    assert len(projections) == 2


# ----------------------------------------------------------------------------- reflect-padded crop

def cifar_args(*argv):
    argv = ["--dataset", "cifar10", "--device", "cpu", "--batch-size", "8", *argv]
    return flags.resolve(flags.parse_args(argv))


def test_reflect_pad_is_torchvisions_reflect_padding_of_uint8_images():
    from torchvision.transforms.functional import pad
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1, 256, (3, 3, 32, 32), dtype=torch.uint8, generator=g)
    ours = batches.reflect_pad(x, 4)
    assert ours.dtype == torch.uint8 and ours.shape == (3, 3, 40, 40)
    assert torch.equal(ours, torch.stack([pad(img, 4, padding_mode="reflect") for img in x]))
    assert torch.equal(ours.float(), F.pad(x.float(), (4,) * 4, mode="reflect"))
    # mirrored about the edge pixel, which is not repeated: padded row 0 is image row 4
    assert torch.equal(ours[:, :, 0, 4:36], x[:, :, 4]) and (ours > 0).all()


def test_reflect_crop_flip_gives_torchvisions_random_crop_and_flip_for_the_same_draws():
    from torchvision.transforms.functional import crop, hflip, pad
    g = torch.Generator().manual_seed(1)
    x = torch.randint(1, 256, (16, 3, 32, 32), dtype=torch.uint8, generator=g)
    dy, dx, flip = batches.crop_flip_draws(g, (16,), padding=4)
    out = batches.random_crop_flip(x, dy, dx, flip, padding=4, reflect=True)
    assert out.shape == x.shape and out.dtype == torch.uint8 and (out > 0).all()  # no zero fill
    for i in range(16):
        theirs = crop(pad(x[i], 4, padding_mode="reflect"), int(dy[i]), int(dx[i]), 32, 32)
        assert torch.equal(out[i], hflip(theirs) if flip[i] else theirs)
    zero_padded = batches.random_crop_flip(x, dy, dx, flip, padding=4)
    assert (zero_padded == 0).any() and not torch.equal(zero_padded, out)


def test_reflect_crop_flip_batches_draw_crop_flips_stream_and_repeat_per_seed():
    args = cifar_args("--augment", "reflect-crop-flip")
    assert args.tag == "fp32_reflect-crop-flip_bs8"  # the recipe names the run
    x = torch.randint(1, 256, (40, 3, 32, 32), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(2))
    data = dict(train_x=x, train_y=torch.arange(40))

    def epoch(a, seed):
        draws = batches.epoch_draws(a, data, torch.Generator().manual_seed(seed), 2)
        return draws, [b for b, _, _ in batches.train_batches(a, data, draws, 2)]

    draws, batch = epoch(args, 7)
    again_draws, again = epoch(args, 7)
    _, other = epoch(args, 8)
    plain_draws, plain = epoch(cifar_args(), 7)  # crop-flip: the same draws, zero padding
    assert all(torch.equal(a, b) for a, b in zip(batch, again))
    assert not all(torch.equal(a, b) for a, b in zip(batch, other))
    assert all(torch.equal(draws[k], plain_draws[k]) for k in draws) and draws["flip"].any()
    assert all(b.shape == (8, 3, 32, 32) and b.dtype == torch.uint8 and (b > 0).all()
               for b in batch)
    assert any((b == 0).any() for b in plain)  # crop-flip's zero border, never reflect's
    crop = [draws[k][0] for k in ("dy", "dx", "flip")]
    idx = draws["order"][0]
    assert torch.equal(batch[0], batches.random_crop_flip(x[idx], *crop, padding=4, reflect=True))


# ----------------------------------------------------------------------------- the table's rows

# RedBit's network per method folder (main_cifar10.py), for the table's CIFAR-10 networks
FORM = {"fp32": "", "qnn": "", "twn": "", "ttq": "", "dorefa": "_preact", "xnor": "_xnor"}
VGG_FORM = {"fp32": "", "qnn": "", "dorefa": "", "twn": "_dropout", "xnor": "_xnor"}


def test_each_cifar10_row_builds_its_methods_redbit_network_and_quantizes_its_layers():
    rows = [line for line in dry_run("quant_table") if "--dataset cifar10" in line]
    assert len(rows) == 66  # 24 ResNet-20, 23 ResNet-50 and 19 VGG-16 rows
    for line in rows:
        args, method = resolved(line), flag(shlex.split(line), "--quant") or "fp32"
        network = args.model.split("_")[0]
        form = (VGG_FORM if network == "vgg16" else FORM)[method]
        assert args.model == f"{network}_redbit{form}", line
        assert args.augment == "reflect-crop-flip", line
        # a VGG-16 on the meta device: shapes only (the rows' TTQ needs real weights: ResNets)
        with torch.device("meta" if network == "vgg16" else "cpu"):
            model = train.build(args, 10, 32, 3)[0]
        layers = {n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
        full_precision = method in ("xnor", "dorefa", "ttq") and (args.wbits, args.abits) != (
            32, 32)
        kept = {"conv1", "fc"} if full_precision else set()
        expected = set() if method == "fp32" else layers - kept
        quantized_layers = {n for n, m in model.named_modules()
                            if isinstance(m, (qlayers.QConv2d, qlayers.QLinear))}
        assert quantized_layers == expected, line
        shortcuts = {n for n in layers if ".shortcut." in n}  # the two 1x1 convs, quantized too
        assert len(shortcuts) == (0 if network == "vgg16" else 2)
        assert shortcuts <= expected or method == "fp32"
        # QNN's quantized activations: hardtanh in every ReLU's place
        hardtanh = method == "qnn" and args.abits < 32
        kinds = {type(m) for m in model.modules()}
        assert (nn.ReLU in kinds, kernels.Hardtanh in kinds) == (not hardtanh, hardtanh), line
