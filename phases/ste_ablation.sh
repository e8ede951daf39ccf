#!/usr/bin/env bash
# STE ablation on ResNet-20 / CIFAR-10, 111 runs (37 configurations x seeds 42, 123, 456): the
# eleven STEs for ternary and for binary weights, clip factors 1 to 5, BN on/off, and TTQ and XNOR
# in their best setups. References: FP32, and TWN (ternary) and BinaryConnect (binary) with --ste
# identity, BN and no clipping; identity is their default STE, so their runs without --ste would be
# the same runs and are not listed. Schedule: the TTQ paper's text ($TTQ_SCHEDULE, in lib.sh), on
# ResNet-20 with its own FP32 runs; ttq_paper.sh has since taken the TTQ authors' setup
# (pre-activation ResNets, their batch and epochs), so none of its runs are these.
# Each surrogate acts on the raw latent weight, as the study and ReSTE's code apply them. There
# |w| is about 0.03 and each surrogate is nearly its value at 0, so the arms compare gradient
# factors (gaussian 0.8; identity, clipped, tanh, triangle 1; polynomial, sigmoid, arctan 2;
# swish 5; EDE and ReSTE rising to about 9 and 4.6): `python ste_factors.py` prints them and
# docs/quantizers.md has the table. BC's clipped arm equals its identity arm exactly (latent
# weights stay in [-1, 1]). Without BN, BinaryConnect binarizes to Glorot's +-H, its authors'
# setting, since +-1 weights with no BN overflow (logits near 1e20).
# Every TWN and BC arm keeps conv1 and fc in full precision (--keep conv1,fc), as ReSTE's ResNet-20
# (model/models_cifar/resnet20.py), whose surrogates the study applies, and the best setups below
# do: a +-1 classifier over 64 features with no BN after it starts with logits of std 9, and the
# all-binary runs stall at a loss near ln 10 (docs/dynamics.md).
source "$(dirname "$0")/lib.sh"

# reference: FP32
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 456

# eleven straight-through estimators, ternary (TWN) and binary (BinaryConnect); identity: references
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste identity $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste identity $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste identity $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste clipped $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste clipped $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste clipped $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste tanh $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste tanh $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste tanh $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste polynomial $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste polynomial $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste polynomial $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste swish $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste swish $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste swish $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste sigmoid $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste sigmoid $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste sigmoid $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste arctan $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste arctan $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste arctan $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste ede $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste ede $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste ede $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste reste $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste reste $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste reste $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste triangle $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste triangle $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste triangle $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste gaussian $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste gaussian $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --ste gaussian $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste identity $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste identity $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste identity $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste clipped $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste clipped $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste clipped $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste tanh $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste tanh $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste tanh $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste polynomial $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste polynomial $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste polynomial $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste swish $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste swish $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste swish $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste sigmoid $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste sigmoid $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste sigmoid $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste arctan $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste arctan $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste arctan $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste ede $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste ede $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste ede $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste reste $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste reste $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste reste $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste triangle $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste triangle $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste triangle $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste gaussian $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste gaussian $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --ste gaussian $TTQ_SCHEDULE --seed 456

# latent weights clipped to [-f std, f std] after every step, f = 1 to 5
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 1 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 1 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 1 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 2 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 2 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 2 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 3 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 3 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 3 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 4 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 4 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 4 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 5 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 5 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --clip-factor 5 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 1 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 1 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 1 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 2 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 2 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 2 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 3 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 3 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 3 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 4 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 4 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 4 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 5 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 5 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --clip-factor 5 $TTQ_SCHEDULE --seed 456

# batch norm off
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --no-bn $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --no-bn $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn --keep conv1,fc --no-bn $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --no-bn $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --no-bn $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant bc --keep conv1,fc --no-bn $TTQ_SCHEDULE --seed 456

# the best published setups: TTQ fine-tuned from this script's FP32 runs with conv1 and fc kept,
# XNOR-Net with first and last layer in FP32, binary weights and full-precision activations (the
# study's binary arms binarize weights only; its 90.78% is a binary-weight figure)
run python train.py --model resnet20 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet20/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet20/${FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet20/${FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant xnor --keep conv1,fc $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant xnor --keep conv1,fc $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant xnor --keep conv1,fc $TTQ_SCHEDULE --seed 456
