#!/usr/bin/env bash
# Phase 3: BitNet b1.58 baselines, 18 runs: ResNet-18/50 x CIFAR-10, CIFAR-100, Tiny-ImageNet x
# seeds 42, 123, 456.
source "$(dirname "$0")/lib.sh"

run python train.py --model resnet18 --dataset cifar10 --quant bitnet --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --seed 456
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --seed 42
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --seed 123
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --seed 456
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --seed 42
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --seed 123
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --seed 456
