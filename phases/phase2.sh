#!/usr/bin/env bash
# Phase 2: the KD control, 27 runs: FP32 + KD, ResNet-18 x 3 datasets x 3 seeds (9), and BitNet +
# KD, ResNet-18/50 x 3 datasets x 3 seeds (18). Teachers: the phase-1 seed-42 FP32 run of the same
# model and dataset, so phase 1's seed-42 runs come first (run_all.sh waits for them; run alone, a
# missing teacher is an error). A teacher is its run's final weights (final.pt, written at
# completion), never the test-selected best.pt. The study names no KD temperature or weight:
# train.py's defaults, T = 4 and alpha = 0.9 on the teacher's soft targets, are our choices.
source "$(dirname "$0")/lib.sh"

# FP32 + KD: does distillation alone help a full-precision student?
run python train.py --model resnet18 --dataset cifar10 --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset cifar10 --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset cifar10 --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet18 --dataset cifar100 --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset cifar100 --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset cifar100 --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 456

# BitNet + KD
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant bitnet --kd "$OUT/cifar10/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant bitnet --kd "$OUT/cifar100/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant bitnet --kd "$OUT/tiny-imagenet/resnet18/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --kd "$OUT/cifar10/resnet50/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --kd "$OUT/cifar10/resnet50/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant bitnet --kd "$OUT/cifar10/resnet50/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --kd "$OUT/cifar100/resnet50/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --kd "$OUT/cifar100/resnet50/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet50 --dataset cifar100 --quant bitnet --kd "$OUT/cifar100/resnet50/${FP32_TAG}_s42/final.pt" --seed 456
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --kd "$OUT/tiny-imagenet/resnet50/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --kd "$OUT/tiny-imagenet/resnet50/${FP32_TAG}_s42/final.pt" --seed 123
run python train.py --model resnet50 --dataset tiny-imagenet --quant bitnet --kd "$OUT/tiny-imagenet/resnet50/${FP32_TAG}_s42/final.pt" --seed 456
