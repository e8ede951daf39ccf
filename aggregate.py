"""The collection of every training run into two CSV files (one row per run, one per recipe) and
their reading back.

    python aggregate.py [--results results/raw] [--processed DIR]
"""
import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from common import FREE_SETTINGS, fail, read_json
from stability import history_measures
from stats import mean_std, t_interval

# aggregated.csv, one row per run: its config fields, these results, reason and path (run folder);
# top1, the accuracy the statistics use, is report_top1 or else the one the run's report names
# (chosen_top1)
RESULT_COLUMNS = ["status", "top1", "report_top1", "best_top1", "best_epoch", "best_top5",
                  "final_top1", "final_top5",
                  "epochs_completed", "wall_seconds", "train_images_per_second", "params",
                  "quantized_params", "model_size_bytes", "fp32_size_bytes", "diverged_epoch"]
# then, after reason and path, the measures of its history (stability.history_measures): whether
# the last test loss is finite, the last epoch's dynamics record, stability, and flip rates per lr
# phase and just before each lr drop (lists); empty where the run has no history or no dynamics
# record (absent is not 0)
HISTORY_COLUMNS = ["final_test_loss_finite", "final_flip_rate", "final_oscillation_rate",
                   "final_zero_share", "top1_change_std", "loss_spikes", "epochs_to_95",
                   "flip_rate_phases", "flip_rate_before_drops"]
# the columns that are not config fields
RUN_COLUMNS = RESULT_COLUMNS + ["reason", "path"] + HISTORY_COLUMNS
# config fields that are not settings of a recipe: the seed, those that change nothing computed, the
# normalization statistics, read off each run's data (a synthetic set's depend on its seed), and the
# digests of the weights a run started from (each seed its own FP32 run's)
PER_RUN_FIELDS = {"seed", "norm_mean", "norm_std", "init_from_digest", "kd_digest"} | FREE_SETTINGS
# checkpoints a run starts from (teacher, initial weights) name a per-seed file under a free results
# root: a configuration keys on the run they come from without its seed (source_run)
PATH_FIELDS = {"kd", "init_from"}
# columns read back as text; all others are JSON values (numbers, true/false, lists)
TEXT_COLUMNS = {"dataset", "model", "tag", "status", "reason", "path", "quant", "stem", "kd",
                "init_from",
                "optimizer", "schedule", "ste", "shortcut", "report", "device", "data_dir", "out",
                "run_dir", "git_commit", "torch_version"}
# summary.csv, one row per recipe: dataset, model, tags, its settings, then these statistics of the
# top1 of its completed runs, one per seed (n: distinct seeds; ci95: the 95% t-interval)
SUMMARY_STATS = ["n", "mean", "std", "ci95_low", "ci95_high", "min", "max", "seeds", "diverged",
                 "excluded"]


def run_folders(results):
    """Every <dataset>/<model>/<run> folder, whatever it holds (an empty one is a run that never
    started), but those under a hidden folder at any level (a run set aside as .old/)."""
    return sorted(p for p in results.glob("*/*/*") if p.is_dir()
                  and not any(part.startswith(".") for part in p.relative_to(results).parts))


def folder_identity(folder):
    """(dataset, model, tag, seed) of <dataset>/<model>/<tag>_s<seed>."""
    name = re.fullmatch(r"(.*)_s(\d+)", folder.name)
    return (folder.parent.parent.name, folder.parent.name, name[1] if name else folder.name,
            int(name[2]) if name else None)


def read_run(folder):
    """One aggregated.csv row: config fields, results fields, status and (for excluded runs) the
    reason. The tag is the folder's (a renamed folder's run goes by its new name); a config.json
    whose dataset, model or seed is not its folder's was moved there, and is left out."""
    config, results = read_json(folder / "config.json"), read_json(folder / "results.json")
    config = config if isinstance(config, dict) else None
    identity = dict(zip(("dataset", "model", "tag", "seed"), folder_identity(folder)))
    row = {**identity, **(config or {}), "tag": identity["tag"]}
    results = results if isinstance(results, dict) else {}
    row.update({k: results.get(k) for k in RESULT_COLUMNS})
    row["top1"] = chosen_top1(results, config or {})
    row["status"], row["reason"] = run_status(folder, config, results)
    elsewhere = moved(config, identity)
    if elsewhere:
        row["status"], row["reason"] = "moved", elsewhere
    row["path"] = str(folder.resolve())
    history = results.get("history")
    row.update(history_measures(history if isinstance(history, list) else [],
                                config if isinstance(config, dict) else {}))
    return row


def moved(config, identity):
    """Why a config.json is not its folder's run (another dataset, model or seed), or ''."""
    # a folder not named <tag>_s<seed> has no seed to compare
    differ = [f"{k} {config[k]} (its folder's {identity[k]})" for k in ("dataset", "model", "seed")
              if config and k in config and identity[k] is not None and config[k] != identity[k]]
    return "config.json names another run: " + ", ".join(differ) if differ else ""


def chosen_top1(results, config):
    """report_top1 (the accuracy --report chose); for results written without it, the accuracy its
    config's report names (final_top1 where unsaid, train.py's default), else None."""
    if results.get("report_top1") is not None:
        return results["report_top1"]
    return results.get({"best": "best_top1", "final": "final_top1"}.get(
        config.get("report") or "final", "report_top1"))


def run_status(folder, config, results):
    """(status, reason): reason is empty exactly for a completed run that enters the statistics."""
    status = results.get("status")
    if not isinstance(config, dict):
        return "no-config", "config.json is missing or not valid JSON"
    if not (folder / "results.json").exists():
        return "missing", "no results.json (the run never wrote one)"
    if not results:
        return "corrupt", "results.json is empty or not valid JSON"
    if status == "completed":
        if not isinstance(chosen_top1(results, config), (int, float)):
            return "corrupt", ("results.json says completed but holds no report_top1 or the "
                               "accuracy its report names")
        return "completed", ""
    if status == "running":
        return "running", ("unfinished: status 'running' after "
                           f"{results.get('epochs_completed', '?')} of "
                           f"{results.get('epochs', '?')} epochs")
    if status == "diverged":
        where = results.get("message") or (f"at epoch {results.get('diverged_epoch', '?')}, step "
                                           f"{results.get('diverged_step', '?')}")
        return "diverged", f"diverged: {where} (last finite loss {results.get('last_finite_loss')})"
    if status == "failed":
        return "failed", f"failed: {results.get('message', 'no message')}"
    return "corrupt", f"results.json has an unknown status {status!r}"


def run_order(row):
    seed = row["seed"] if isinstance(row["seed"], int) else -1
    return str(row["dataset"]), str(row["model"]), str(row["tag"]), seed


def cell(value):
    """A CSV cell: empty for None, JSON for booleans and lists, plain text otherwise."""
    if value is None:
        return ""
    if isinstance(value, (bool, list, dict)):
        return json.dumps(value)
    return str(value)


def parse_cell(column, text):
    if text == "":
        return None
    if column in TEXT_COLUMNS:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text  # an unknown text field


def load_runs(processed):
    """aggregated.csv back as a list of dicts with typed values (the reader tables.py and figures.py
    share)."""
    path = Path(processed) / "aggregated.csv"
    if not path.exists():
        fail(f"{path} not found; run `python aggregate.py` first (or pass --processed)")
    with open(path, newline="") as f:
        return [{k: parse_cell(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def results_roots(rows):
    """The results folders that the runs of aggregated.csv came from
    (<root>/<dataset>/<model>/<run>), for tables.py and figures.py to name what they show."""
    return ", ".join(sorted({str(Path(r["path"]).parents[2]) for r in rows if r.get("path")}))


def write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([[cell(row.get(c)) for c in columns] for row in rows])


def source_run(path):
    """'dataset/model/tag' of the run folder holding checkpoint `path`, without its seed, or
    None."""
    if not path:
        return None
    *where, name = Path(path).parts[-4:-1]
    return "/".join([*where, re.sub(r"_s\d+$", "", name)])


def forward_version(row):
    """The version of the quantized forward (qlayers.QUANT_FORWARD) where it changed what a run
    computes: 2 for DoReFa's and XNOR-Net's quantized activations from the version on which a
    quantized first layer (every model's conv1) takes the image as it is, 1 before it
    (unrecorded); else None, as for a run that keeps conv1 in full precision."""
    if (row.get("quant") in ("dorefa", "xnor") and (row.get("abits") or 32) < 32
            and "conv1" not in (row.get("keep") or [])):
        return row.get("quant_forward") or 1
    return None


def setting(row, column):
    if column in PATH_FIELDS:
        return source_run(row.get(column))
    if column == "keep" and isinstance(row.get(column), list):
        return sorted(row[column])  # --keep fc,conv1 keeps what --keep conv1,fc keeps
    return forward_version(row) if column == "quant_forward" else row.get(column)


def configuration(row, config_columns):
    """The settings that make a configuration: every config field but the per-run ones."""
    return {c: setting(row, c) for c in config_columns if c not in PER_RUN_FIELDS}


def recipe(row):
    """A run's configuration without its unset fields: equal for the runs of one recipe whether or
    not their config.json spells out an unset field (an older train.py wrote fewer)."""
    fields = list(dict.fromkeys([c for c in row if c not in RUN_COLUMNS] + ["quant_forward"]))
    return {k: v for k, v in configuration(row, fields).items()
            if v is not None and not (k in PATH_FIELDS and not v)}


def recipe_key(row):
    return json.dumps(recipe(row), sort_keys=True)


def one_per_seed(runs):
    """(the first run of each seed, [(counted, repeat)] for each later run of a counted seed)."""
    counted, repeats = {}, []
    for run in runs:
        seed = run.get("seed")
        if seed in counted:
            repeats.append((counted[seed], run))
        else:
            counted[seed] = run
    return list(counted.values()), repeats


def repeat_warning(counted, repeat):
    return (f"seed {counted.get('seed')} ran twice with one recipe, counted once: "
            f"{counted.get('path')} (counted) and {repeat.get('path')} (left out)")


def recipe_summaries(rows, config_columns):
    """(one row per recipe: its settings, tags, and the statistics of its completed runs, one per
    seed; the warnings of the seeds run twice)."""
    groups = {}
    for row in rows:
        if row["status"] != "no-config":  # without its settings a run belongs to no configuration
            groups.setdefault(recipe_key(row), []).append(row)
    summary, warnings = [], []
    for runs in groups.values():
        done, repeats = one_per_seed(r for r in runs if r["status"] == "completed")
        warnings += [repeat_warning(*pair) for pair in repeats]
        top1 = [r["top1"] for r in done]
        entry = configuration(runs[0], config_columns)
        entry["tags"] = " ".join(sorted({str(r["tag"]) for r in runs}))
        entry.update(n=len(done), seeds=" ".join(str(r["seed"]) for r in done),
                     diverged=sum(r["status"] == "diverged" for r in runs),
                     excluded=sum(r["status"] not in ("completed", "diverged") for r in runs))
        if top1:
            mean, std = mean_std(top1)
            low, high = t_interval(top1)  # nan for a single run, written as an empty cell
            std = std if len(top1) > 1 else float("nan")  # one run has no sample std
            entry.update({k: round(v, 4) if np.isfinite(v) else None for k, v in
                          dict(mean=mean, std=std, ci95_low=low, ci95_high=high,
                               min=min(top1), max=max(top1)).items()})
        summary.append(entry)
    summary.sort(key=lambda e: (str(e.get("dataset")), str(e.get("model")), e["tags"]))
    return summary, warnings


def refuse_foreign(processed, results):
    """Stop when <processed>/aggregated.csv lists run folders outside `results`: writing would
    silently replace another results folder's aggregate."""
    try:
        with open(processed / "aggregated.csv", newline="") as f:
            paths = [row.get("path") or "" for row in csv.DictReader(f)]
    except (OSError, csv.Error, UnicodeDecodeError):
        return  # nothing readable to lose
    root = results.resolve()
    foreign = sorted(p for p in paths if p and not Path(p).is_relative_to(root))
    if foreign:
        other = Path(foreign[0]).parent.parent.parent  # <results>/<dataset>/<model>/<run>
        fail(f"{processed} holds the aggregate of {other}, not of {results}; pass --processed DIR "
             f"to write this one elsewhere (or delete {processed / 'aggregated.csv'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default="results/raw",
                        help="root of the run folders (default results/raw)")
    parser.add_argument("--processed",
                        help="output folder (default: 'processed' beside the results folder)")
    args = parser.parse_args()
    results = Path(args.results)
    if not results.is_dir():
        fail(f"results folder {results} not found (pass --results)")
    processed = Path(args.processed) if args.processed else results.resolve().parent / "processed"
    refuse_foreign(processed, results)
    folders = run_folders(results)
    if not folders:
        fail(f"no run folders <dataset>/<model>/<run> in {results}")

    # in tag order: of a seed run twice with one recipe, the run counted is the first by tag
    rows = sorted((read_run(folder) for folder in folders), key=run_order)
    for row in rows:
        if row["reason"]:  # out of the statistics, in aggregated.csv, counted in the last line
            print(f"warning: {row['path']}: {row['reason']}", file=sys.stderr)
        elif row["final_test_loss_finite"] is False:  # counted, but never silently
            print(f"warning: {row['path']}: completed, but its last test loss is not finite: its "
                  f"final top-1 {row['final_top1']} is of overflowing logits", file=sys.stderr)
    config_columns = list(dict.fromkeys(k for r in rows for k in r if k not in RUN_COLUMNS))
    summary, repeats = recipe_summaries(rows, config_columns)
    for line in repeats:
        print(f"warning: {line}", file=sys.stderr)
    settings = [c for c in config_columns if c not in PER_RUN_FIELDS | {"dataset", "model"}]
    try:
        processed.mkdir(parents=True, exist_ok=True)
        write_csv(processed / "aggregated.csv", config_columns + RUN_COLUMNS, rows)
        write_csv(processed / "summary.csv", ["dataset", "model", "tags"] + settings
                  + SUMMARY_STATS, summary)
    except OSError as e:
        fail(f"cannot write to {processed}: {e.strerror}")

    counts = Counter(r["status"] for r in rows)
    listed = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    print(f"aggregated {len(rows)} runs ({listed}) into {len(summary)} configurations: "
          f"{processed / 'aggregated.csv'}, {processed / 'summary.csv'}")
    if processed.resolve() != Path("results/processed").resolve():  # not where tables.py looks
        print(f"tables and figures: python tables.py --processed {processed}; "
              f"python figures.py --processed {processed}")


if __name__ == "__main__":
    main()
