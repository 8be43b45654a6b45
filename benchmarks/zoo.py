"""The zoo's results table: every variant trained with its default recipe to the end, 3 seeds each, then compared.

    python benchmarks/zoo.py                       # or: make zoo
    python benchmarks/zoo.py --jobs 2              # two runs at a time, one CPU thread each
    python benchmarks/zoo.py --variants sgan --seeds 3

Runs live in ``benchmarks/runs/zoo/VARIANT/seedS`` (ignored by git). The script is restartable: a finished run
is reused, an interrupted one is continued with ``ganzoo run --resume``, so the table can be built over several
sittings. At the end it scores every run with ``ganzoo compare`` (one row per variant, its seeds as mean ± std,
10,000 samples per run, ganzoo's shipped MNIST evaluator) and writes ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs" / "zoo"
RESULTS = HERE / "RESULTS.md"
VARIANTS = ("gan", "cgan", "sgan", "acgan", "mogan")


def ganzoo(*args: str, threads: int | None = None) -> subprocess.CompletedProcess:
    prefix = [sys.executable, "-m", "ganzoo"] + (["--threads", str(threads)] if threads else [])
    return subprocess.run([*prefix, *args], text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def records(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def finished(run_dir: Path) -> bool:
    return any(r.get("kind") == "end" for r in records(run_dir))


def state(run_records: list[dict]) -> dict:
    """Where a run stands: its end record, or (a run still to be continued) its last step and last evaluation."""
    end = next((r for r in reversed(run_records) if r.get("kind") == "end"), None)
    if end is not None:
        return {**end, "finished": True}
    evals = [r for r in run_records if r.get("kind") == "eval"]
    step = run_records[-1]["step"] if run_records else 0
    timed = next((r for r in reversed(run_records) if r.get("epoch")), None)  # an "interrupted" record has no epoch
    epoch = round(step * timed["epoch"] / timed["step"], 2) if timed else 0
    return {**(evals[-1] if evals else {}), "step": step, "epoch": epoch, "finished": False}


def train(variant: str, seed: int, threads: int | None, data_root: str | None) -> str:
    run_dir = RUNS / variant / f"seed{seed}"
    if finished(run_dir):
        return f"{variant} seed {seed}: done before"
    if (run_dir / "checkpoints" / "last.safetensors").is_file():
        args = ["run", "--resume", str(run_dir), "--quiet"]
    else:
        args = ["run", variant, "--dataset", "mnist", "--seed", str(seed), "--out", str(run_dir), "--quiet"]
        if data_root:
            args += ["--data-root", data_root]
    started = time.perf_counter()
    result = ganzoo(*args, threads=threads)
    if result.returncode != 0:
        raise SystemExit(f"{variant} seed {seed} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return f"{variant} seed {seed}: trained in {time.perf_counter() - started:.0f} s"


def recipe_budget(variant: str) -> str:
    import tomllib

    train = tomllib.loads((HERE.parent / "recipes" / f"{variant}-mnist.toml").read_text())["train"]
    return f"{train['steps']:,} steps" if train.get("steps") else f"{train['epochs']} epochs"


def mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return f"{mean:.4g} ± {std:.2g}"


def first_step_reaching(run_records: list[dict], key: str, target: float) -> int | None:
    for record in run_records:
        if record.get("kind") == "eval" and record.get(key, -1) >= target:
            return record["step"]
    return None


def results_table(variants: list[str], report: dict) -> str:
    """RESULTS.md: the compare table, the loss's own numbers (SGAN's test accuracy), budget and wall time."""
    rows, metrics = (
        report["rows"],
        [
            "fid",
            "conditional_accuracy",
            "class_entropy",
            "class_coverage",
            "precision",
            "recall",
            "inception_score",
            "cas",
        ],
    )
    lines = [
        "| variant | " + " | ".join(metrics) + " | own result | budget | wall time per run |",
        "|---|" + "---|" * (len(metrics) + 3),
    ]
    for variant in [*variants, "real data (train vs test)"]:
        row = rows.get(variant, {})
        cells = []
        for metric in metrics:
            value = row.get(metric)
            cells.append(
                "-"
                if not value
                else (f"{value['mean']:.4g} ± {value['std']:.2g}" if value["std"] else f"{value['mean']:.4g}")
            )
        own, budget, wall = "-", "-", "-"
        if variant in variants:
            runs = [records(RUNS / variant / f"seed{seed}") for seed in range(len(row.get("runs", [])))]
            ends = [state(run) for run in runs if run]
            if ends and "test_accuracy" in ends[0]:
                own = "test accuracy " + mean_std([e["test_accuracy"] for e in ends])
            if ends:
                seeds = f"{len(ends)} seed" + ("s" if len(ends) > 1 else "")
                if len({e["step"] for e in ends}) == 1:
                    budget = f"{ends[0]['step']:,} steps ({ends[0]['epoch']:.3g} epochs), {seeds}"
                else:  # seeds stopped at different points: each one's
                    budget = (
                        " / ".join(f"{e['step']:,}" for e in ends)
                        + " steps ("
                        + " / ".join(f"{e['epoch']:.3g}" for e in ends)
                        + f" epochs), {seeds}"
                    )
                if not all(e["finished"] for e in ends):
                    budget += f" (**unfinished**: the recipe's budget is {recipe_budget(variant)})"
                walls = [e["wall_seconds"] / 60 for e in ends if "wall_seconds" in e]  # absent in runs of ganzoo 0.1
                wall = mean_std(walls) + " min" if walls else "-"
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {own} | {budget} | {wall} |")
    return "\n".join(lines) + "\n"


def sgan_time_to_target(target: float = 0.985) -> str:
    """When SGAN's mean test accuracy over the seeds first reaches ``target`` (evaluated every epoch)."""
    runs = [records(path) for path in sorted((RUNS / "sgan").glob("seed*"))]
    curves = [
        {r["step"]: r["test_accuracy"] for r in run if r.get("kind") == "eval" and "test_accuracy" in r} for run in runs
    ]
    if not curves:
        return ""
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    if not steps:
        return ""
    last = [c[steps[-1]] for c in curves]  # where every seed stands at the last evaluation they all reached
    common = (
        f" At step {steps[-1]:,} (epoch {steps[-1] / 600:g}), the last evaluation every seed has reached, it is "
        f"{mean_std(last)} over {len(curves)} seed(s)."
    )
    for step in steps:
        mean = sum(c[step] for c in curves) / len(curves)
        if mean >= target:
            seconds = [state(run).get("wall_seconds") for run in runs]
            total = state(runs[0])["step"]
            if not all(seconds):  # an unfinished run has no wall time yet
                return (
                    f"SGAN's mean test accuracy over {len(curves)} seed(s) first reaches {target:.3f} at step {step:,}."
                    + common
                )
            minutes = sum(s * step / total for s in seconds) / len(seconds) / 60
            return (
                f"SGAN's mean test accuracy over {len(curves)} seeds first reaches {target:.3f} at step {step:,} "
                f"(epoch {step / 600:g}; about {minutes:.0f} minutes per run on this machine): {mean:.4f}." + common
            )
    return f"SGAN's mean test accuracy over {len(curves)} seeds never reaches {target:.3f}." + common


def epoch_evaluations(variant: str, key: str, epoch: float) -> list[float]:
    """``key`` of every seed's in-run evaluation at ``epoch`` (the tuned recipes evaluate every epoch)."""
    values = []
    for path in sorted((RUNS / variant).glob("seed*")):
        found = [r[key] for r in records(path) if r.get("kind") == "eval" and r.get("epoch") == epoch and key in r]
        values += found[:1]
    return values


def target_checks(variants: list[str], report: dict) -> str:
    """Each target of issue #7 beside the measured mean, and whether it is met (MOGAN: FID *or* class entropy)."""
    rows = report["rows"]
    real_fid = rows["real data (train vs test)"]["fid"]["mean"]

    def mean(variant: str, metric: str) -> float | None:
        value = rows.get(variant, {}).get(metric)
        return value["mean"] if value else None

    checks = []
    ends = {v: [state(records(p)) for p in sorted((RUNS / v).glob("seed*"))] for v in variants}
    if "sgan" in variants and ends["sgan"] and all("test_accuracy" in e for e in ends["sgan"]):
        accuracy = sum(e["test_accuracy"] for e in ends["sgan"]) / len(ends["sgan"])
        checks.append(("sgan: test accuracy >= 0.985 (paper 0.9907)", accuracy, accuracy >= 0.985))
    if "acgan" in variants:
        first = epoch_evaluations("acgan", "conditional_accuracy", 1.0)
        if first:
            value = sum(first) / len(first)
            checks.append(("acgan: conditional accuracy >= 0.97 after 1 epoch", value, value >= 0.97))
    for variant, target in (("acgan", 0.99), ("cgan", 0.97)):
        value = mean(variant, "conditional_accuracy") if variant in variants else None
        if value is not None:
            checks.append((f"{variant}: conditional accuracy >= {target} at the end", value, value >= target))
    for variant in ("gan", "mogan"):
        value = mean(variant, "class_entropy") if variant in variants else None
        if value is not None:
            checks.append((f"{variant}: class entropy >= 2.25", value, value >= 2.25))
    if {"gan", "mogan"} <= set(variants) and mean("gan", "fid") and mean("mogan", "fid"):
        gan, mogan = mean("gan", "fid"), mean("mogan", "fid")
        checks.append((f"mogan: FID better than gan's ({gan:.4g})", mogan, mogan < gan))
    if {"gan", "mogan"} <= set(variants) and mean("gan", "class_entropy") and mean("mogan", "class_entropy"):
        gan, mogan = mean("gan", "class_entropy"), mean("mogan", "class_entropy")
        checks.append((f"mogan: class entropy higher than gan's ({gan:.4g})", mogan, mogan > gan))
    for variant in variants:
        value = mean(variant, "fid")
        if value is not None:
            checks.append(
                (f"{variant}: FID <= 10x the real-data row ({10 * real_fid:.3g})", value, value <= 10 * real_fid)
            )
    unfinished = [v for v in variants if not all(e["finished"] for e in ends[v])]
    checks = [
        (name + " (unfinished run)" * any(name.startswith(v + ":") for v in unfinished), value, ok)
        for name, value, ok in checks
    ]
    lines = ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value:.4g} | {'yes' if ok else '**no**'} |" for name, value, ok in checks]
    return "\n".join(lines) + "\n"


def score(args: argparse.Namespace, report_dir: Path) -> None:
    """``ganzoo compare`` on every variant's folder of runs, into a fresh report folder."""
    shutil.rmtree(report_dir, ignore_errors=True)  # the report is written anew from the runs
    compare = ganzoo(
        "compare",
        *(str(RUNS / v) for v in args.variants),
        "--dataset",
        "mnist",
        "--n",
        str(args.n),
        "--out",
        str(report_dir),
        *(["--data-root", args.data_root] if args.data_root else []),
    )
    if compare.returncode != 0:
        raise SystemExit(f"compare failed:\n{compare.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (each gets cores // jobs threads)")
    parser.add_argument("--data-root", default=os.environ.get("GANZOO_DATA"))
    parser.add_argument("--n", type=int, default=10000, help="samples per run for the metrics")
    parser.add_argument(
        "--score-only",
        action="store_true",
        help="train nothing: score the runs as they stand (unfinished ones are marked in the table)",
    )
    parser.add_argument(
        "--from-report",
        action="store_true",
        help="train and score nothing: rewrite RESULTS.md from the last report (benchmarks/runs/zoo/report)",
    )
    args = parser.parse_args()
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    jobs = [(variant, seed) for variant in args.variants for seed in range(args.seeds)]
    started = time.perf_counter()
    if not (args.score_only or args.from_report):
        with ThreadPoolExecutor(args.jobs) as pool:
            for message in pool.map(lambda job: train(*job, threads, args.data_root), jobs):
                print(message, flush=True)
    report_dir = RUNS / "report"
    if not args.from_report:
        score(args, report_dir)
    report = json.loads((report_dir / "report.json").read_text())
    shutil.copyfile(report_dir / "grid.png", HERE / "zoo-grid.png")
    evaluator = report["evaluator"]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    header = (
        f"# ganzoo's zoo on MNIST\n\nWritten by `python benchmarks/zoo.py` on {datetime.now():%Y-%m-%d} ({machine}). "
        f"Every variant trained with its default recipe (`recipes/VARIANT-mnist.toml`) for the budget in the "
        f"table, with the seeds found in `benchmarks/runs/zoo/VARIANT/` (the budget column says how many); "
        f"each run scored on {args.n:,} samples by ganzoo's MNIST evaluator (test accuracy "
        f"{evaluator['test_accuracy']:.4f}, sha256 {evaluator['sha256'][:12]}); mean ± std over the seeds. FID and "
        f"precision/recall are measured in the evaluator's 128-feature space (not Inception's): compare them with "
        f"the real-data row, not with papers' Inception FIDs.\n\n"
    )
    minutes = (time.perf_counter() - started) / 60
    RESULTS.write_text(
        header
        + results_table(args.variants, report)
        + f"\n{sgan_time_to_target()}\n\n"
        + target_checks(args.variants, report)
        + f"\n![each variant's samples, seed 0](zoo-grid.png)\n\n*Left to right: {', '.join(args.variants)} (seed 0, "
        + "same noise; rows: classes for the conditional variants).*\n\n"
        + f"This invocation took {minutes:.0f} minutes (runs reused from earlier sittings are not counted).\n"
    )
    print(f"wrote {RESULTS} and {report_dir}/report.html")


if __name__ == "__main__":
    main()
