#!/usr/bin/env bash
# The TTQ paper (Zhu et al. 2017) on CIFAR-10 as its authors' code ran it, 24 runs: FP32 and TTQ
# pre-activation ResNet-20/32/44/56 x seeds 42, 123, 456 ($TTQ_AUTHORS_*, in lib.sh). Each TTQ run
# fine-tunes the final weights of the FP32 run of its seed (final.pt, written at completion),
# every layer but conv1 ternarized, the classifier too, as theirs.
source "$(dirname "$0")/lib.sh"

# FP32, as the authors' cifar10-resnet.py trained the networks TTQ starts from
run python train.py --model preact_resnet20 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 42
run python train.py --model preact_resnet20 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 123
run python train.py --model preact_resnet20 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 456
run python train.py --model preact_resnet32 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 42
run python train.py --model preact_resnet32 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 123
run python train.py --model preact_resnet32 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 456
run python train.py --model preact_resnet44 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 42
run python train.py --model preact_resnet44 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 123
run python train.py --model preact_resnet44 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 456
run python train.py --model preact_resnet56 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 42
run python train.py --model preact_resnet56 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 123
run python train.py --model preact_resnet56 --dataset cifar10 $TTQ_AUTHORS_FP32 --seed 456

# TTQ from the FP32 run of the same seed (tw-cifar10-resnet.py): only conv1 in FP32
run python train.py --model preact_resnet20 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet20/${TTQ_AUTHORS_FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model preact_resnet20 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet20/${TTQ_AUTHORS_FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model preact_resnet20 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet20/${TTQ_AUTHORS_FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model preact_resnet32 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet32/${TTQ_AUTHORS_FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model preact_resnet32 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet32/${TTQ_AUTHORS_FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model preact_resnet32 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet32/${TTQ_AUTHORS_FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model preact_resnet44 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet44/${TTQ_AUTHORS_FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model preact_resnet44 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet44/${TTQ_AUTHORS_FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model preact_resnet44 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet44/${TTQ_AUTHORS_FP32_TAG}_s456/final.pt" --seed 456
run python train.py --model preact_resnet56 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet56/${TTQ_AUTHORS_FP32_TAG}_s42/final.pt" --seed 42
run python train.py --model preact_resnet56 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet56/${TTQ_AUTHORS_FP32_TAG}_s123/final.pt" --seed 123
run python train.py --model preact_resnet56 --dataset cifar10 --quant ttq --keep conv1 $TTQ_AUTHORS_TTQ --init-from "$OUT/cifar10/preact_resnet56/${TTQ_AUTHORS_FP32_TAG}_s456/final.pt" --seed 456
