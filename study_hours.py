"""The 153-run study as bench.py projects it: the runs of each phase (model, method, dataset, stem,
seeds) and their GPU-hours from measured training and evaluation rates (`python bench.py --study`).
"""

STUDY_DATA = {"cifar10": (32, 50_000, 10_000), "cifar100": (32, 50_000, 10_000),
              "tiny-imagenet": (64, 100_000, 10_000)}
EPOCHS = 300
ALL = tuple(STUDY_DATA)
R18, BOTH = ("resnet18",), ("resnet18", "resnet50")


def runs(model_names, quant_name, datasets, seeds, kd=False, stem="cifar", variants=1):
    # one entry per (model, dataset); count = seeds x variants (keep-layer variants are timed as the
    # plain quantizer)
    return [dict(model=m, quant=quant_name, dataset=d, stem=stem, kd=kd, count=seeds * variants)
            for m in model_names for d in datasets]


PHASES = {
    "phase1 fp32 baselines (+ imagenet stem)": (runs(BOTH, "fp32", ALL, 3)
                                                + runs(BOTH, "fp32", ALL[:2], 1, stem="imagenet")),
    "phase2 KD (fp32 r18, bitnet)": (runs(R18, "fp32", ALL, 3, kd=True)
                                     + runs(BOTH, "bitnet", ALL, 3, kd=True)),
    "phase3 bitnet": runs(BOTH, "bitnet", ALL, 3),
    "phase4 bitnet keep conv1/layers": runs(BOTH, "bitnet", ALL,
                                            3) + runs(R18, "bitnet", ALL, 3, kd=True)
                                       + runs(R18, "bitnet", ALL, 3, variants=3),
    "phase5 r18 bitnet keep conv1, 7 seeds": runs(R18, "bitnet", ALL[1:], 7),
    "phase6 ttq": runs(BOTH, "ttq", ALL, 3),
}


def study_keys():
    """Every (model, quant, stem, image size) the phases train, the FP32 teachers of KD runs
    included."""
    keys = set()
    for entries in PHASES.values():
        for e in entries:
            size = STUDY_DATA[e["dataset"]][0]
            keys.add((e["model"], e["quant"], e["stem"], size))
            if e["kd"]:
                keys.add((e["model"], "fp32", e["stem"], size))
    return sorted(keys)


def project(rows):
    """GPU-hours per phase: count * epochs * (train images / train rate + test images / eval rate) /
    3600."""
    rate = {}  # with --layout both, the faster layout of each configuration
    for r in sorted(rows, key=lambda r: r.get("images_s", 0)):
        rate[(r["model"], r["quant"], r["stem"], r["image_size"])] = r
    phases = {}
    for phase, entries in PHASES.items():
        out = []
        for e in entries:
            size, n_train, n_test = STUDY_DATA[e["dataset"]]
            r = rate[(e["model"], e["quant"], e["stem"], size)]
            train_rate = r["images_s"]
            if e["kd"]:  # the teacher's no-grad forward of the same FP32 model runs on every batch
                teacher = rate[(e["model"], "fp32", e["stem"], size)]["eval_images_s"]
                train_rate = 1 / (1 / train_rate + 1 / teacher)
            hours = e["count"] * EPOCHS * (n_train / train_rate
                                           + n_test / r["eval_images_s"]) / 3600
            out.append(dict(e, epochs=EPOCHS, train_images=n_train, test_images=n_test,
                            train_rate=train_rate, eval_rate=r["eval_images_s"], hours=hours))
        phases[phase] = dict(runs=out, count=sum(e["count"] for e in out),
                             hours=sum(e["hours"] for e in out))
    return dict(phases=phases, total_runs=sum(p["count"] for p in phases.values()),
                total_hours=sum(p["hours"] for p in phases.values()))


def print_study(study, device):
    print(f"\n{'phase':<42} {'runs':>5} {'GPU-hours':>10}")
    for name, p in study["phases"].items():
        print(f"{name:<42} {p['count']:>5} {p['hours']:>10.1f}")
    print(f"{'total':<42} {study['total_runs']:>5} {study['total_hours']:>10.1f}")
    print(f"(projection: one run per device at the rates measured on {device}, {EPOCHS} epochs, "
          "eval every epoch; keep-layer variants timed as plain bitnet; KD adds a measured FP32 "
          "forward)")
