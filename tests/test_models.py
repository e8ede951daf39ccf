"""The networks of models.py: each tensor registered once (so checkpoints and packed files hold one
copy), VGG checkpoints of the layout that held every layer twice still load, the results table's
wide LeNet-5 as RedBit builds it, and --keep takes only names that hold a Conv2d or Linear layer."""
import io

import pytest
import torch
import torch.nn.functional as F

import export
import models
import qlayers
import train

TINY = ["--dataset", "synthetic", "--fake-data", "--epochs", "1", "--steps-per-epoch", "1",
        "--batch-size", "8", "--device", "cpu", "--quiet"]


def build(name, **kw):
    size, channels = (28, 1) if name.startswith("lenet5") else (32, 3)
    return models.build_model(name, 10, kw.pop("image_size", size), channels, **kw)


def floats(tensors):
    return sum(t.numel() for t in tensors)


# -------------------------------------------------------------------------- one copy of each tensor

@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_the_state_dict_holds_each_parameter_and_buffer_once(name):
    with torch.device("meta"):  # shapes only: AlexNet's 58M weights need no memory here
        model = build(name)
    state = model.state_dict()
    assert floats(state.values()) == floats(model.parameters()) + floats(model.buffers())
    assert len(state) == len(list(model.parameters())) + len(list(model.buffers()))


def test_vgg16_holds_its_15_million_weights_once():
    # 3x3 convs: 9 weights for each pair of in and out channels
    convs = 9 * (3 * 64 + 64 * 64 + 64 * 128 + 128 * 128 + 128 * 256 + 2 * 256 * 256
                 + 256 * 512 + 5 * 512 * 512)
    # 13 BatchNorm2d and one BatchNorm1d: scale, shift
    norms = 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512) + 2 * 512
    # fc1 (1x1x512 after five pools, no bias) and fc with its bias
    linears = 512 * 512 + (512 * 10 + 10)
    # running mean and variance, as many as scale and shift, and 14 step counters
    stats = norms + 14
    assert convs + norms + linears == 14_987_210
    with torch.device("meta"):
        model = build("vgg16")
    assert floats(model.parameters()) == convs + norms + linears
    assert floats(model.state_dict().values()) == convs + norms + linears + stats == 14_996_696


def saved_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def test_a_packed_vgg16_is_smaller_than_its_fp32_state_dict():
    torch.manual_seed(0)
    model = qlayers.quantize_model(build("vgg16"), "bc")  # 1-bit weights in every layer
    state = model.state_dict()
    packed = export.pack(model, dict(model="vgg16"))
    quantized = {
        n for n, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    }
    assert set(packed["layers"]) == quantized
    weights = floats(model.get_submodule(n).weight for n in quantized)
    # beside the codes only the rest in fp32 (norms, fc's bias, statistics): no weight twice
    assert (packed["floats"].numel()
            == floats(t for t in state.values() if t.is_floating_point()) - weights)
    assert (packed["codes"].numel()
            == sum(-(-model.get_submodule(n).weight.numel() // 8) for n in quantized))
    assert saved_bytes(packed) < saved_bytes(state) / 20  # 1 bit a weight against 32


# -------------------------------------------------------------------- checkpoints of the old layout

# vgg_bc's old layout: (conv, norm, ReLU) per conv, a pool after each pair; (linear, norm, ReLU)
VGG_BC_OLD = {
    "features.0": "conv1", "features.1": "bn1", "features.3": "conv2", "features.4": "bn2",
    "features.7": "conv3", "features.8": "bn3", "features.10": "conv4", "features.11": "bn4",
    "features.14": "conv5", "features.15": "bn5", "features.17": "conv6", "features.18": "bn6",
    "head.0": "fc1", "head.1": "bn7", "head.3": "fc2", "head.4": "bn8"}


def old_checkpoint(state):
    """The state dict the old layout wrote: each conv and linear under its name and again under
    features/head, each norm under features/head only."""
    old = {}
    for key, value in state.items():
        layer, rest = key.split(".", 1)
        place = next((p for p, n in VGG_BC_OLD.items() if n == layer), None)
        if place:
            old[f"{place}.{rest}"] = value
        if not layer.startswith("bn"):
            old[key] = value
    return old


def test_a_vgg_checkpoint_of_the_old_layout_loads_and_its_optimizer_state_fits():
    torch.manual_seed(0)
    trained = build("vgg_bc", image_size=8)
    with torch.no_grad():
        for t in trained.state_dict().values():
            # every value off its initial one, step counters too
            t.add_(torch.rand_like(t.float()).to(t.dtype) + 1)
    old = old_checkpoint(trained.state_dict())
    assert len(old) == len(trained.state_dict()) + 8  # six convs and two linears twice
    model = build("vgg_bc", image_size=8)
    model.load_state_dict(old)
    assert all(torch.equal(a, b)
               for a, b in zip(model.state_dict().values(), trained.state_dict().values()))
    # the optimizer state follows parameters(), the old order: convs, their norms, linears, theirs
    order = ([f"conv{i}.weight" for i in range(1, 7)]
             + [f"bn{i}.{p}" for i in range(1, 7) for p in ("weight", "bias")]
             + ["fc1.weight", "fc2.weight", "bn7.weight", "bn7.bias", "bn8.weight", "bn8.bias",
                "fc.weight", "fc.bias"])
    assert [n for n, _ in model.named_parameters()] == order


def test_a_vgg_computes_conv_norm_relu_and_pools_in_its_plan_order():
    torch.manual_seed(0)
    model = build("vgg_bc", image_size=8).eval()
    image = torch.randn(2, 3, 8, 8)
    block = lambda k, x: torch.relu(getattr(model, f"bn{k}")(getattr(model, f"conv{k}")(x)))
    pool = lambda x: F.max_pool2d(x, 2)
    x = pool(block(6, block(5, pool(block(4, block(3, pool(block(2, block(1, image)))))))))
    x = torch.relu(model.bn8(model.fc2(torch.relu(model.bn7(model.fc1(x.flatten(1)))))))
    assert torch.equal(model(image), model.fc(x))


# ----------------------------------------------------------------------------- the wide LeNet-5

WIDE = ["lenet5_wide_avg", "lenet5_wide_max", "lenet5_wide_xnor"]


def test_the_wide_lenet5_holds_the_554600_parameters_of_redbits_baseline():
    # weights: conv1 20*1*25 = 500, conv2 50*20*25 = 25,000, fc1 500*800 = 400,000 (50 maps of 4x4),
    # fc2 250*500 = 125,000, fc 10*250 = 2,500: 553,000, no biases; norms' scale and shift: bn1 none
    # (not affine), bn2 2*50 = 100, bn3 2*500 = 1,000, bn4 2*250 = 500: 1,600
    assert 500 + 25_000 + 400_000 + 125_000 + 2_500 + 100 + 1_000 + 500 == 554_600
    for name in WIDE[:2]:
        assert floats(build(name).parameters()) == 554_600
    # XNOR-Net's norms come before its layers: bn2 2*20 = 40, bn3 2*800 = 1,600, bn4 2*500 = 1,000
    assert floats(build("lenet5_wide_xnor").parameters()) == 553_000 + 40 + 1_600 + 1_000 == 555_640


@pytest.mark.parametrize("name", WIDE)
def test_the_wide_lenet5_has_no_bias_and_norms_of_eps_1e4_the_first_not_affine(name):
    model = build(name)
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 5 and all(m.bias is None for m in layers)
    norms = [model.bn1, model.bn2, model.bn3, model.bn4]
    assert [n.eps for n in norms] == [1e-4] * 4
    assert [n.affine for n in norms] == [False, True, True, True]
    assert models.layer_names(model) == {"conv1", "conv2", "fc1", "fc2", "fc"}  # --keep conv1,fc


def redbit_forward(model, x, pool, norm_first):
    """LeNet_5.forward of RedBit's folders, written out: Baseline and DoReFa-Net average-pool, the
    others max-pool; XNOR-Net normalizes each layer's input after conv1 and has no norm after it."""
    relu = torch.relu
    x = pool(relu(model.bn1(model.conv1(x))), 2)
    assert x.shape[1:] == (20, 12, 12)  # 28 - 4 = 24, pooled
    if norm_first:
        x = pool(relu(model.conv2(model.bn2(x))), 2).flatten(1)
        assert x.shape[1:] == (800,)  # 12 - 4 = 8, pooled: 50 maps of 4x4
        return model.fc(relu(model.fc2(model.bn4(relu(model.fc1(model.bn3(x)))))))
    x = pool(relu(model.bn2(model.conv2(x))), 2).flatten(1)
    return model.fc(relu(model.bn4(model.fc2(relu(model.bn3(model.fc1(x)))))))


@pytest.mark.parametrize("name,pool,norm_first", [("lenet5_wide_avg", F.avg_pool2d, False),
                                                  ("lenet5_wide_max", F.max_pool2d, False),
                                                  ("lenet5_wide_xnor", F.max_pool2d, True)])
def test_each_wide_lenet5_pools_and_orders_its_layers_as_its_redbit_folder(name, pool, norm_first):
    torch.manual_seed(0)
    model = build(name)
    with torch.no_grad():  # norms with statistics and scales of their own, so that each one counts
        for norm in (model.bn1, model.bn2, model.bn3, model.bn4):
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2)
            if norm.affine:
                norm.weight.uniform_(0.5, 2), norm.bias.normal_()
    model.eval()
    image = torch.randn(3, 1, 28, 28)
    out = model(image)
    assert out.shape == (3, 10)
    assert torch.allclose(out, redbit_forward(model, image, pool, norm_first))
    other = F.max_pool2d if pool is F.avg_pool2d else F.avg_pool2d
    assert not torch.allclose(out, redbit_forward(model, image, other, norm_first), atol=1e-3)


def test_the_wide_lenet5_is_blind_to_how_the_image_is_normalized_in_training():
    # conv1 has no bias or padding and batch norm follows it: a positive scale and a shift of the
    # input cancel (up to the norms' eps), so the mean and std we take from the training images
    # and RedBit's (0.1307, 0.3081) give one network
    torch.manual_seed(0)
    model = build("lenet5_wide_max")
    image = torch.rand(16, 1, 28, 28)
    out = model(image)
    assert torch.allclose(out, model((image - 0.1307) / 0.3081), atol=1e-2)
    assert not torch.allclose(out, model(image.flip(-1)), atol=1e-2)  # another image is not


# ----------------------------------------------------------------------------- --keep

def test_keep_names_are_the_layers_that_hold_a_conv_or_linear():
    vgg = models.layer_names(build("vgg16"))
    assert vgg == {f"conv{i}" for i in range(1, 14)} | {"fc1", "fc"}
    resnet = models.layer_names(build("resnet20"))
    assert {"conv1", "layer1", "layer1.0", "layer1.0.conv2", "layer3.2", "fc"} <= resnet
    # norms, ReLUs, option A's parameter-free shortcut and the identity's empty Sequential hold none
    assert not {"bn1", "act", "layer1.0.bn1", "layer1.0.act",
                "layer2.0.shortcut", "layer1.0.shortcut"} & resnet
    assert "layer2.0.shortcut" in models.layer_names(build("resnet18"))  # option B: a 1x1 conv


def run_train(*argv):
    try:
        return train.main([*TINY, *map(str, argv)])
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("model,keep", [
    ("resnet20", "bn1"),
    ("resnet20", "layer1.0.act"),
    ("resnet20", "conv1,layer2.0.shortcut"),
    ("vgg_bc", "features"),
])
def test_train_refuses_a_keep_name_that_keeps_no_layer(tmp_path, capsys, model, keep):
    assert run_train("--model", model, "--quant", "bc", "--keep", keep, "--out", tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (len(err) == 1
            and err[0].startswith("error: --keep")
            and keep.split(",")[-1] in err[0]), err
    assert "conv1" in err[0].replace(keep, "")  # and it names the ones it takes
    assert not list(tmp_path.iterdir())  # refused before anything is written


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_network_takes_the_datasets_channels(name):
    # MNIST's one channel: a network that built a 3-channel conv1 anyway failed at its first step
    with torch.device("meta"):
        for channels in (1, 3):
            model = models.build_model(name, 10, 28 if name.startswith("lenet5") else 32, channels)
            assert model.conv1.in_channels == channels
