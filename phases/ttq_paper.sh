#!/usr/bin/env bash
# The TTQ paper (Zhu et al. 2017) on CIFAR-10, 24 runs: FP32 and TTQ ResNet-20/32/44/56 x seeds 42,
# 123, 456, with the paper's schedule ($TTQ_SCHEDULE, in lib.sh). Each TTQ run starts from the final
# weights of the FP32 run of its seed (final.pt, written at completion), never its test-selected
# best.pt.
source "$(dirname "$0")/lib.sh"

# FP32, the paper's schedule
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet32 --dataset cifar10 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet32 --dataset cifar10 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet32 --dataset cifar10 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet44 --dataset cifar10 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet44 --dataset cifar10 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet44 --dataset cifar10 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet56 --dataset cifar10 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet56 --dataset cifar10 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet56 --dataset cifar10 $TTQ_SCHEDULE --seed 456

# TTQ from the FP32 run of the same seed; first conv and last fc in FP32, as in the paper
run python train.py --model resnet20 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet20/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet20/${FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet20/${FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model resnet32 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet32/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet32 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet32/${FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model resnet32 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet32/${FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model resnet44 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet44/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet44 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet44/${FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model resnet44 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet44/${FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model resnet56 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet56/${FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model resnet56 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet56/${FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model resnet56 --dataset cifar10 --quant ttq --keep conv1,fc $TTQ_SCHEDULE --init-from "$OUT/cifar10/resnet56/${FP32_TAG}_s456/final.pt" --seed 456
