#!/usr/bin/env bash
# Phase 5: statistical power, 14 runs: ResNet-18 BitNet with FP32 conv1 on CIFAR-100 and
# Tiny-ImageNet, seeds 789, 1011, 1213, 1415, 1617, 1819, 2021; with phase 4's seeds 42, 123, 456
# that makes n = 10 per cell, for the study's near-parity claims: tables.py's power table gives
# each cell's gap to FP32 (n = 3) with Welch's 95% interval.
source "$(dirname "$0")/lib.sh"

run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 789
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 1011
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 1213
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 1415
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 1617
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 1819
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 2021
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 789
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 1011
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 1213
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 1415
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 1617
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 1819
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 2021
