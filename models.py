"""The networks in plain PyTorch: ResNet-18/50 (ImageNet or CIFAR stem), ResNet-20..56 (post- and
pre-activation) and WRN-56-2 for CIFAR, VGG-9/16, VGG-BC, LeNet-5 (LeCun's and the results table's
wide one), AlexNet-BN; their registry MODELS (models_redbit's too), build_model and layer_names."""
from functools import partial

import torch.nn as nn
import torch.nn.functional as F

from models_redbit import (RedBitBlock, RedBitPreActBlock, RedBitResNet, RedBitVGG,
                           RedBitXnorBlock)


def norm_layer(bn):
    """BatchNorm2d, or Identity for the batch-norm ablation (--no-bn)."""
    return nn.BatchNorm2d if bn else (lambda channels: nn.Identity())


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


# -------------------------------------------------------------------- ResNet-18/50 (He et al. 2016)

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride, norm):
        super().__init__()
        cout = width * self.expansion
        self.conv1, self.bn1 = conv3x3(cin, width, stride), norm(width)
        self.conv2, self.bn2 = conv3x3(width, cout), norm(cout)
        self.act = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        return self.act(self.bn2(self.conv2(out)) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride, norm):
        super().__init__()
        cout = width * self.expansion
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), norm(width)
        self.conv2, self.bn2 = conv3x3(width, width, stride), norm(width)
        self.conv3, self.bn3 = nn.Conv2d(width, cout, 1, bias=False), norm(cout)
        self.act = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.act(self.bn2(self.conv2(out)))
        return self.act(self.bn3(self.conv3(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet for ImageNet-sized inputs (stem 'imagenet': 7x7/2 conv + 3x3/2 max-pool) or
    adapted to 32-64 px inputs (stem 'cifar': 3x3/1 conv, no max-pool)."""

    def __init__(self, block, blocks, num_classes, stem="cifar", bn=True, in_channels=3):
        super().__init__()
        norm = norm_layer(bn)
        if stem == "cifar":
            self.conv1, self.pool = conv3x3(in_channels, 64), nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            self.pool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = norm(64)
        self.act = nn.ReLU()
        cin, stages = 64, []
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            layers = []
            for j in range(n):
                layers.append(block(cin, width, 2 if (i > 0 and j == 0) else 1, norm))
                cin = width * block.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.pool(self.act(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ------------------------------------------------------ CIFAR ResNets (He et al. 2016, section 4.2)

class CifarBlock(nn.Module):
    """Basic block with option A (zero-padded identity, parameter-free) or option B
    (1x1 projection) shortcuts where the shape changes."""

    def __init__(self, cin, cout, stride, norm, shortcut):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), norm(cout)
        self.conv2, self.bn2 = conv3x3(cout, cout), norm(cout)
        self.act = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            if shortcut == "A":
                pad = cout - cin
                self.shortcut = LambdaLayer(
                    lambda x: F.pad(x[:, :, ::stride, ::stride],
                                    (0, 0, 0, 0, pad // 2, pad - pad // 2)))
            else:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              norm(cout))

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        return self.act(self.bn2(self.conv2(out)) + self.shortcut(x))


class LambdaLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class CifarResNet(nn.Module):
    """6n+2 layers: a 3x3 conv, three stages of n blocks at 16k/32k/64k channels
    (k = widen factor: 1 for ResNet-20..56, 2 for WRN-56-2), global pooling, fc."""

    def __init__(self, depth, num_classes, widen=1, shortcut="A", bn=True, in_channels=3, **_):
        super().__init__()
        n, norm = (depth - 2) // 6, norm_layer(bn)
        self.conv1, self.bn1 = conv3x3(in_channels, 16), norm(16)
        self.act = nn.ReLU()
        cin, stages = 16, []
        for i, width in enumerate((16 * widen, 32 * widen, 64 * widen)):
            layers = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(CifarBlock(cin, width, stride, norm, shortcut))
                cin = width
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class PreActBlock(nn.Module):
    """The pre-activation basic block (He et al. 2016, "Identity Mappings", fig. 4e) as the TTQ
    authors' code builds it (tensorpack's CIFAR ResNet): BN-ReLU-conv-BN-ReLU-conv plus the input,
    which a down-sampling block average-pools 2x2 and pads with zero channels (no parameters).
    The first block of the network skips its leading BN-ReLU: the stem's BN-ReLU precedes it."""

    def __init__(self, cin, cout, stride, norm, first=False):
        super().__init__()
        self.bn1 = nn.Identity() if first else norm(cin)
        self.act1 = nn.Identity() if first else nn.ReLU()
        self.conv1, self.bn2 = conv3x3(cin, cout, stride), norm(cout)
        self.conv2, self.act2 = conv3x3(cout, cout), nn.ReLU()
        self.stride, self.pad = stride, (cout - cin) // 2

    def shortcut(self, x):
        if self.stride == 1:
            return x
        x = F.avg_pool2d(x, self.stride)
        return F.pad(x, (0, 0, 0, 0, self.pad, self.pad))

    def forward(self, x):
        out = self.conv1(self.act1(self.bn1(x)))
        return self.conv2(self.act2(self.bn2(out))) + self.shortcut(x)


class PreActCifarResNet(nn.Module):
    """6n+2 layers, pre-activation (the TTQ authors' CIFAR-10 ResNets, czhu95/ternarynet
    tw-cifar10-resnet.py): conv, BN-ReLU, three stages of n PreActBlocks at 16/32/64 channels, a
    final BN-ReLU on the last block's sum, global pooling, fc with bias; the authors' init."""

    def __init__(self, depth, num_classes, bn=True, in_channels=3, **_):
        super().__init__()
        n, norm = (depth - 2) // 6, norm_layer(bn)
        self.conv1, self.bn1, self.act = conv3x3(in_channels, 16), norm(16), nn.ReLU()
        cin, stages = 16, []
        for i, width in enumerate((16, 32, 64)):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(PreActBlock(cin, width, stride, norm, first=(i == 0 and j == 0)))
                cin = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.bn_last = norm(cin)  # sees the residual sum, not a conv's output
        self.fc = nn.Linear(cin, num_classes)
        self.authors_init()

    def authors_init(self):
        # tensorpack: conv W ~ N(0, 2 / (9 c_out)); fc W ~ U(+-1.43 sqrt(3 / fan_in)), b = 0
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        bound = 1.43 * (3 / self.fc.in_features) ** 0.5
        nn.init.uniform_(self.fc.weight, -bound, bound)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.act(self.bn_last(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ---------------------------------------------------------------------------- VGG, LeNet-5, AlexNet

class Plain(nn.Module):
    """A plain conv stack described by a list: an int is a 3x3 conv (+ norm + ReLU) with that
    many channels, 'M' a 2x2 max-pool; then hidden linear layers and the final `fc`.
    Each layer is registered once, under the name --keep uses: convs conv1, conv2, ...,
    hidden linears fc1, fc2, ..., their norms bn1, bn2, ... numbered on through the linears
    (as AlexNet)."""

    def __init__(self, plan, hidden, num_classes, image_size, bn=True, in_channels=3, **_):
        super().__init__()
        norm, cin, size, convs = norm_layer(bn), in_channels, image_size, []
        for item in plan:
            if item == "M":
                size //= 2
            else:
                convs.append(nn.Conv2d(cin, item, 3, 1, 1, bias=False))
                cin = item
        dims = [cin * size * size] + list(hidden)
        k, h = len(convs), len(hidden)
        layers = ([(f"conv{i + 1}", c) for i, c in enumerate(convs)]
                  + [(f"bn{i + 1}", norm(c.out_channels)) for i, c in enumerate(convs)]
                  + [(f"fc{i + 1}", nn.Linear(dims[i], dims[i + 1], bias=False)) for i in range(h)]
                  + [(f"bn{k + i + 1}", nn.BatchNorm1d(d) if bn else nn.Identity())
                     for i, d in enumerate(hidden)])
        # in the parameter order of the old layout: its optimizer state fits
        for name, layer in layers:
            self.add_module(name, layer)
        self.act = nn.ReLU(inplace=True)
        self.fc = nn.Linear(dims[-1], num_classes)
        self.plan, self.hidden = list(plan), h
        self.old_names = old_layout_names(plan, h)

    def forward(self, x):
        k = 0
        for item in self.plan:
            if item == "M":
                x = F.max_pool2d(x, 2)
            else:
                k += 1
                x = self.act(getattr(self, f"bn{k}")(getattr(self, f"conv{k}")(x)))
        x = x.flatten(1)
        for i in range(1, self.hidden + 1):
            x = self.act(getattr(self, f"bn{k + i}")(getattr(self, f"fc{i}")(x)))
        return self.fc(x)

    def _load_from_state_dict(self, state_dict, prefix, *args):
        # checkpoints of the old layout hold every layer twice, also as features.N and head.N
        old_prefixes = (prefix + "features.", prefix + "head.")
        for key in [k for k in state_dict if k.startswith(old_prefixes)]:
            part, index, rest = key[len(prefix):].split(".", 2)
            value = state_dict.pop(key)
            state_dict.setdefault(f"{prefix}{self.old_names[f'{part}.{index}']}.{rest}", value)
        super()._load_from_state_dict(state_dict, prefix, *args)


def old_layout_names(plan, hidden):
    """{features.N or head.N: the layer's name now} of the layout that held each layer twice:
    a conv's block was (conv, norm, ReLU), a pool one module,
    a hidden linear's (linear, norm, ReLU)."""
    names, n, k = {}, 0, 0
    for item in plan:
        if item != "M":
            k += 1
            names.update({f"features.{n}": f"conv{k}", f"features.{n + 1}": f"bn{k}"})
        n += 1 if item == "M" else 3
    for i in range(hidden):
        names.update({f"head.{3 * i}": f"fc{i + 1}", f"head.{3 * i + 1}": f"bn{k + i + 1}"})
    return names


def vgg(plan, hidden):
    return (lambda num_classes, image_size, bn=True, in_channels=3, **_:
            Plain(plan, hidden, num_classes, image_size, bn, in_channels))


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998), 6-16-120-84, with ReLU, max-pooling and batch norm after every
    hidden layer (as quantized networks need), for 28 px MNIST (padded first conv). Not the wide
    LeNet-5 of the results table: that is WideLeNet5."""

    def __init__(self, num_classes, image_size=28, bn=True, in_channels=1, **_):
        super().__init__()
        norm = norm_layer(bn)
        padding = 2 if image_size == 28 else 0
        self.conv1, self.bn1 = nn.Conv2d(in_channels, 6, 5, padding=padding), norm(6)
        self.conv2, self.bn2 = nn.Conv2d(6, 16, 5), norm(16)
        self.fc1, self.bn3 = (nn.Linear(16 * 5 * 5, 120),
                              nn.BatchNorm1d(120) if bn else nn.Identity())
        self.fc2, self.bn4 = nn.Linear(120, 84), nn.BatchNorm1d(84) if bn else nn.Identity()
        self.fc = nn.Linear(84, num_classes)
        self.act = nn.ReLU()

    def forward(self, x):
        x = F.max_pool2d(self.act(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(self.act(self.bn2(self.conv2(x))), 2)
        x = F.adaptive_avg_pool2d(x, 5).flatten(1)
        return self.fc(self.act(self.bn4(self.fc2(self.act(self.bn3(self.fc1(x)))))))


def wide_norm(bn, channels, dims=2, affine=True):
    # RedBit's LeNet_5.py: eps 1e-4 in every norm
    cls = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
    return cls(channels, eps=1e-4, affine=affine) if bn else nn.Identity()


class WideLeNet5(nn.Module):
    """The wide LeNet-5 of the quantization results table: models/LeNet_5.py in each method's
    folder of the RedBit framework (Santos et al. 2023), Caffe's 20-50-500 LeNet plus a 250 layer.
    conv 5x5 20, BN (not affine), ReLU, pool; conv 5x5 50, BN, ReLU, pool; fc 500, BN, ReLU;
    fc 250, BN, ReLU; fc; no padding, no biases, no dropout. `pool`: 'avg' (Baseline, DoReFa-Net)
    or 'max' (QNN, XNOR-Net, TWN, TTQ). `norm_first`: XNOR-Net's order after conv1, each norm
    before its layer (BN, layer, ReLU) and none after it."""

    def __init__(self, num_classes, image_size=28, in_channels=1, bn=True, pool="avg",
                 norm_first=False, **_):
        super().__init__()
        side = ((image_size - 4) // 2 - 4) // 2  # two unpadded 5x5 convs, each before a 2x2 pool
        flat = 50 * side * side
        self.conv1 = nn.Conv2d(in_channels, 20, 5, bias=False)
        self.bn1 = wide_norm(bn, 20, affine=False)
        self.conv2 = nn.Conv2d(20, 50, 5, bias=False)
        self.fc1 = nn.Linear(flat, 500, bias=False)
        self.fc2 = nn.Linear(500, 250, bias=False)
        self.fc = nn.Linear(250, num_classes, bias=False)
        inputs = (20, flat, 500) if norm_first else (50, 500, 250)  # what bn2, bn3, bn4 normalize
        self.bn2, self.bn3, self.bn4 = (wide_norm(bn, c, d) for c, d in zip(inputs, (2, 1, 1)))
        self.act = nn.ReLU()
        self.pool = nn.AvgPool2d(2) if pool == "avg" else nn.MaxPool2d(2)
        self.norm_first = norm_first

    def block(self, layer, norm, x):
        return self.act(layer(norm(x))) if self.norm_first else self.act(norm(layer(x)))

    def forward(self, x):
        x = self.pool(self.act(self.bn1(self.conv1(x))))
        x = self.pool(self.block(self.conv2, self.bn2, x))
        x = self.block(self.fc1, self.bn3, x.flatten(1))
        return self.fc(self.block(self.fc2, self.bn4, x))


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al. 2012) with batch norm after every layer and no dropout,
    the form used by TTQ and the quantization results table, for 224 px inputs."""

    def __init__(self, num_classes, bn=True, in_channels=3, **_):
        super().__init__()
        norm = norm_layer(bn)
        self.conv1, self.bn1 = nn.Conv2d(in_channels, 96, 11, 4, 2, bias=False), norm(96)
        self.conv2, self.bn2 = nn.Conv2d(96, 256, 5, 1, 2, bias=False), norm(256)
        self.conv3, self.bn3 = nn.Conv2d(256, 384, 3, 1, 1, bias=False), norm(384)
        self.conv4, self.bn4 = nn.Conv2d(384, 384, 3, 1, 1, bias=False), norm(384)
        self.conv5, self.bn5 = nn.Conv2d(384, 256, 3, 1, 1, bias=False), norm(256)
        self.fc1, self.bn6 = (nn.Linear(256 * 6 * 6, 4096, bias=False),
                              nn.BatchNorm1d(4096) if bn else nn.Identity())
        self.fc2, self.bn7 = (nn.Linear(4096, 4096, bias=False),
                              nn.BatchNorm1d(4096) if bn else nn.Identity())
        self.fc = nn.Linear(4096, num_classes)
        self.act = nn.ReLU()

    def forward(self, x):
        x = F.max_pool2d(self.act(self.bn1(self.conv1(x))), 3, 2)
        x = F.max_pool2d(self.act(self.bn2(self.conv2(x))), 3, 2)
        x = self.act(self.bn3(self.conv3(x)))
        x = self.act(self.bn4(self.conv4(x)))
        x = F.max_pool2d(self.act(self.bn5(self.conv5(x))), 3, 2)
        x = F.adaptive_avg_pool2d(x, 6).flatten(1)
        x = self.act(self.bn7(self.fc2(self.act(self.bn6(self.fc1(x))))))
        return self.fc(x)


# ----------------------------------------------------------------------------- registry

# Every model names its first convolution `conv1` and its last linear layer `fc`, so that
# `--keep conv1,fc` works on all; its ReLUs are nn.ReLU modules (`act`): QNN swaps in hardtanh.
MODELS = {
    "resnet18": (lambda num_classes, stem="cifar", bn=True, in_channels=3, **_:
                 ResNet(BasicBlock, (2, 2, 2, 2), num_classes, stem, bn, in_channels)),
    "resnet50": (lambda num_classes, stem="cifar", bn=True, in_channels=3, **_:
                 ResNet(Bottleneck, (3, 4, 6, 3), num_classes, stem, bn, in_channels)),
    "resnet20": partial(CifarResNet, 20),
    "resnet32": partial(CifarResNet, 32),
    "resnet44": partial(CifarResNet, 44),
    "resnet56": partial(CifarResNet, 56),
    "wrn56_2": partial(CifarResNet, 56, widen=2),
    # the TTQ authors' pre-activation ResNets (tensorpack's CIFAR-10 example)
    "preact_resnet20": partial(PreActCifarResNet, 20),
    "preact_resnet32": partial(PreActCifarResNet, 32),
    "preact_resnet44": partial(PreActCifarResNet, 44),
    "preact_resnet56": partial(PreActCifarResNet, 56),
    # VGG-9 of Li et al. 2017: seven 3x3 convs and two linear layers
    "vgg9": vgg([128, 128, "M", 256, 256, "M", 512, 512, 512, "M"], [1024]),
    "vgg16": vgg([64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                  512, 512, 512, "M", 512, 512, 512, "M"], [512]),
    # the network of BinaryConnect (Courbariaux et al. 2015):
    # 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC
    "vgg_bc": vgg([128, 128, "M", 256, 256, "M", 512, 512, "M"], [1024, 1024]),
    "lenet5": LeNet5,
    # the results table's wide LeNet-5 (RedBit): avg pool, max pool, XNOR-Net's BN -> layer -> ReLU
    "lenet5_wide_avg": partial(WideLeNet5, pool="avg"),
    "lenet5_wide_max": partial(WideLeNet5, pool="max"),
    "lenet5_wide_xnor": partial(WideLeNet5, pool="max", norm_first=True),
    "alexnet": AlexNet,
    # the results table's CIFAR-10 networks as RedBit builds them (models_redbit.py): post-
    # activation (Baseline, QNN, TWN, TTQ), pre-activation (DoReFa-Net), BN -> conv -> ReLU (XNOR)
    "resnet20_redbit": partial(RedBitResNet, 20, RedBitBlock),
    "resnet20_redbit_preact": partial(RedBitResNet, 20, RedBitPreActBlock),
    "resnet20_redbit_xnor": partial(RedBitResNet, 20, RedBitXnorBlock),
    "resnet50_redbit": partial(RedBitResNet, 50, RedBitBlock),  # 6n+2, n = 8: basic blocks
    "resnet50_redbit_preact": partial(RedBitResNet, 50, RedBitPreActBlock),
    "resnet50_redbit_xnor": partial(RedBitResNet, 50, RedBitXnorBlock),
    "vgg16_redbit": partial(RedBitVGG, form="plain"),  # Baseline, QNN, DoReFa-Net
    "vgg16_redbit_dropout": partial(RedBitVGG, form="dropout"),  # TWN, TTQ
    "vgg16_redbit_xnor": partial(RedBitVGG, form="xnor"),
}


STEMMED = ("resnet18", "resnet50")  # the models whose stem --stem chooses
SHORTCUT_CHOICE = ("resnet20", "resnet32", "resnet44", "resnet56", "wrn56_2")  # --shortcut's


def build_model(name, num_classes, image_size=32, in_channels=3,
                stem="cifar", bn=True, shortcut="A"):
    return MODELS[name](num_classes=num_classes, image_size=image_size, in_channels=in_channels,
                        stem=stem, bn=bn, shortcut=shortcut)


def layer_names(model):
    """Names --keep can use: every Conv2d/Linear and every module holding one
    (e.g. conv1, layer1, layer1.0.conv2, fc). A norm's, a ReLU's or a pool's name would keep
    nothing, so it is not one."""
    return {name for name, module in model.named_modules()
            if name and any(isinstance(m, (nn.Conv2d, nn.Linear)) for m in module.modules())}
