#!/usr/bin/env bash
# Phase 4: BitNet + recipe and layer sensitivity, 54 runs: BitNet with FP32 conv1, ResNet-18/50 x 3
# datasets x 3 seeds (18); the same with KD, ResNet-18 x 3 datasets x 3 seeds (9); ResNet-18 BitNet
# keeping only layer1, only layer4 or only fc in FP32 (conv1 ternary), 3 x 3 datasets x 3 seeds
# (27). The KD runs need phase 1's seed-42 FP32 teachers: their final weights (final.pt, written at
# completion), never the test-selected best.pt.
source "$(dirname "$0")/lib.sh"

# the recipe: BitNet with conv1 in FP32
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --fp32-conv1 --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --fp32-conv1 --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --fp32-conv1 --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --fp32-conv1 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --fp32-conv1 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --fp32-conv1 --seed 456
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 42
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 123
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --fp32-conv1 --seed 456
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 42
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 123
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --seed 456

# the recipe + KD (teacher: the phase-1 seed-42 FP32 run)
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --fp32-conv1 --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --fp32-conv1 --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --fp32-conv1 --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --fp32-conv1 --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --fp32-conv1 --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 456

# layer sensitivity: BitNet with only layer1, only layer4 or only fc in FP32 and every other layer
# ternary, conv1 too (not the recipe's conv1 and one more layer)
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep layer1 --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep layer1 --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep layer1 --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep layer1 --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep layer1 --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep layer1 --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep layer1 --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep layer1 --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep layer1 --seed 456
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep layer4 --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep layer4 --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep layer4 --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep layer4 --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep layer4 --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep layer4 --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep layer4 --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep layer4 --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep layer4 --seed 456
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep fc --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep fc --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --keep fc --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep fc --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep fc --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --keep fc --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep fc --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep fc --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --keep fc --seed 456
