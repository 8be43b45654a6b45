"""The zoo's results table: every variant trained with its default recipe to the end, 3 seeds each, then compared.

    python benchmarks/zoo.py                       # or: make zoo
    python benchmarks/zoo.py --jobs 2              # two runs at a time, one CPU thread each
    python benchmarks/zoo.py --variants sgan --seeds 3

Runs live in ``benchmarks/runs/zoo/VARIANT/seedS`` (ignored by git). The script is restartable: a finished run
is reused, an interrupted one is continued with ``ganzoo run --resume``, so the table can be built over several
sittings. At the end it scores every run on this machine with ``ganzoo compare`` (10,000 samples per run, ganzoo's
shipped MNIST evaluator), keeps each run's scores in ``benchmarks/zoo-scores.json`` (in git: run folders do not
survive a new checkout, their scores must) and writes ``benchmarks/RESULTS.md`` from it, one row per variant, its
seeds as mean ± std.

The ledger's ``recorded`` groups are seeds scored before it kept runs one by one: their mean and std as the table
printed them. They are pooled with the later runs' own values and not trained again. When a recipe changes, delete
the variant's entries (its runs and its recorded group): scores of another recipe must not be pooled in.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
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
LEDGER = HERE / "zoo-scores.json"
VARIANTS = ("gan", "cgan", "sgan", "acgan", "mogan")
METRICS = (
    "fid",
    "conditional_accuracy",
    "class_entropy",
    "class_coverage",
    "precision",
    "recall",
    "inception_score",
    "cas",
)


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


# -- the ledger: every run's scores, kept in git so that the table outlives the run folders ---------------------


def load_ledger() -> dict:
    if LEDGER.is_file():
        return json.loads(LEDGER.read_text())
    return {"evaluator": None, "real": {}, "runs": {}, "recorded": {}}


def recorded_seeds(ledger: dict, variant: str) -> list[int]:
    return ledger["recorded"].get(variant, {}).get("seeds", [])


def runs_to_train(ledger: dict, variants: list[str], seeds: int) -> list[tuple[str, int]]:
    """Every (variant, seed) of the table but those of a recorded group (their folders are gone, their scores
    are kept); a finished run on this machine is among them and is reused by ``train``."""
    return [(v, seed) for v in variants for seed in range(seeds) if seed not in recorded_seeds(ledger, v)]


def run_entry(variant: str, seed: int, metrics: dict) -> dict:
    """One run's scores beside what its metrics.jsonl says about it (budget, wall time, the loss's own results)."""
    run_records = records(RUNS / variant / f"seed{seed}")
    end = state(run_records)
    evals = [r for r in run_records if r.get("kind") == "eval"]
    epoch1 = [r["conditional_accuracy"] for r in evals if r.get("epoch") == 1.0 and "conditional_accuracy" in r]
    curve = {str(r["step"]): r["test_accuracy"] for r in evals if "test_accuracy" in r}
    return {
        "variant": variant,
        "seed": seed,
        "scored": f"{datetime.now():%Y-%m-%d}",
        **{name: value for name, value in metrics.items() if value is not None},
        "step": end["step"],
        "epoch": end["epoch"],
        "finished": end["finished"],
        "wall_minutes": end["wall_seconds"] / 60 if "wall_seconds" in end else None,
        "machine": machine(),  # zoo.py trains and scores on the same machine: where the wall time was spent
        "dtype": end.get("precision") or resolved_precision(RUNS / variant / f"seed{seed}"),
        "test_accuracy": end.get("test_accuracy"),
        "epoch1_conditional_accuracy": epoch1[0] if epoch1 else None,
        "test_accuracy_curve": curve or None,
    }


def update_ledger(ledger: dict, report: dict) -> None:
    """Put this sitting's scores into the ledger; an earlier score of the same run is replaced."""
    evaluator = {"sha256": report["evaluator"]["sha256"], "test_accuracy": report["evaluator"]["test_accuracy"]}
    if ledger["evaluator"] and ledger["evaluator"]["sha256"] != evaluator["sha256"]:
        raise SystemExit(
            f"{LEDGER.name} holds scores by another evaluator (sha256 {ledger['evaluator']['sha256'][:12]}, now "
            f"{evaluator['sha256'][:12]}): they cannot be pooled. Move it away and score every run again."
        )
    ledger["evaluator"] = evaluator
    real = report["rows"]["real data (train vs test)"]
    ledger["real"] = {name: value["mean"] for name, value in real.items() if isinstance(value, dict)}
    for variant in ledger_variants(report):
        row = report["rows"][variant]
        for run_dir, metrics in zip(row["runs"], row["per_run"]):
            seed = int(Path(run_dir).name.removeprefix("seed"))
            ledger["runs"][f"{variant}/seed{seed}"] = run_entry(variant, seed, metrics)


def ledger_variants(report: dict) -> list[str]:
    return [name for name in report["rows"] if name in VARIANTS and not report["rows"][name].get("error")]


def pooled(groups: list[tuple[float, float, int]]) -> tuple[float, float, int] | None:
    """Mean, sample std and count of several groups given as (mean, std, count): exact for the raw values behind
    them (a single run is a group of one)."""
    count = sum(n for _, _, n in groups)
    if not count:
        return None
    mean = sum(m * n for m, _, n in groups) / count
    squares = sum((n - 1) * s * s + n * m * m for m, s, n in groups)
    std = max(0.0, (squares - count * mean * mean) / (count - 1)) ** 0.5 if count > 1 else 0.0
    return mean, std, count


def values(ledger: dict, variant: str, key: str) -> tuple[float, float, int] | None:
    """``key`` over every seed of ``variant``: the runs scored one by one, pooled with a recorded group."""
    groups = [
        (run[key], 0.0, 1) for run in ledger["runs"].values() if run["variant"] == variant and run.get(key) is not None
    ]
    recorded = ledger["recorded"].get(variant, {}).get(key)
    if recorded:
        groups.append((recorded["mean"], recorded["std"], len(recorded_seeds(ledger, variant))))
    return pooled(groups)


def formatted(value: tuple[float, float, int] | None, unit: str = "") -> str:
    if value is None:
        return "-"
    mean, std, _ = value
    return (f"{mean:.4g} ± {std:.2g}" if std else f"{mean:.4g}") + unit


@functools.cache
def cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text() if path.is_file() else ""


def has_amx() -> bool:
    return " amx_bf16" in cpuinfo()


def machine() -> str:
    """The CPU's model and core count, and whether it has AMX (bf16 matmul units): wall times depend on them."""
    names = [line.split(":", 1)[1].strip() for line in cpuinfo().splitlines() if line.startswith("model name")]
    model = re.sub(r"\((R|TM)\)| Processor", "", names[0]) if names else platform.processor() or platform.machine()
    return f"{model}, {'AMX' if has_amx() else 'no AMX'}, {os.cpu_count()} cores"


def resolved_precision(run_dir: Path) -> str:
    """The training precision of a run whose end record does not name it (ganzoo before 0.2): the recipe's, with
    "auto" resolved as on this machine's CPU (bf16 with AMX, else fp32), where zoo.py trained it."""
    import tomllib

    precision = tomllib.loads((run_dir / "recipe.toml").read_text())["train"].get("precision", "auto")
    return precision if precision != "auto" else ("bf16" if has_amx() else "fp32")


def wall_times(ledger: dict, variant: str) -> str:
    """Wall time per run, one mean ± std per machine: runs on different CPUs are not pooled."""
    by_machine: dict[str, list[tuple[float, float, int]]] = {}
    recorded = ledger["recorded"].get(variant, {})
    if recorded.get("wall_minutes"):
        wall = recorded["wall_minutes"]
        where = f"{recorded.get('machine', '?')}, {recorded.get('dtype', '?')}"
        by_machine.setdefault(where, []).append((wall["mean"], wall["std"], len(recorded["seeds"])))
    for run in ledger["runs"].values():
        if run["variant"] == variant and run.get("wall_minutes"):
            where = f"{run.get('machine', '?')}, {run.get('dtype') or '?'}"
            by_machine.setdefault(where, []).append((run["wall_minutes"], 0.0, 1))
    cells = []
    for name, groups in by_machine.items():
        wall = pooled(groups)
        cells.append(f"{formatted(wall, ' min')} ({name}, {wall[2]} run{'s' * (wall[2] > 1)})")
    return "; ".join(cells) or "-"


def results_table(variants: list[str], ledger: dict) -> str:
    """RESULTS.md: every metric, the loss's own numbers (SGAN's test accuracy), budget and wall time."""
    lines = [
        "| variant | " + " | ".join(METRICS) + " | own result | budget | wall time per run |",
        "|---|" + "---|" * (len(METRICS) + 3),
    ]
    for variant in variants:
        runs = [run for run in ledger["runs"].values() if run["variant"] == variant]
        recorded = ledger["recorded"].get(variant, {})
        cells = [formatted(values(ledger, variant, metric)) for metric in METRICS]
        accuracy = values(ledger, variant, "test_accuracy")
        own = "test accuracy " + formatted(accuracy) if accuracy else "-"
        steps = sorted({run["step"] for run in runs} | ({recorded["step"]} if recorded else set()))
        epochs = sorted({run["epoch"] for run in runs} | ({recorded["epoch"]} if recorded else set()))
        count = len(runs) + len(recorded_seeds(ledger, variant))
        budget = "-"
        if count:
            budget = (
                " / ".join(f"{s:,}" for s in steps)
                + " steps ("
                + " / ".join(f"{e:.3g}" for e in epochs)
                + f" epochs), {count} seed{'s' * (count > 1)}"
            )
            if not all(run["finished"] for run in runs):
                budget += f" (**unfinished**: the recipe's budget is {recipe_budget(variant)})"
        wall = wall_times(ledger, variant)
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {own} | {budget} | {wall} |")
    real = ledger["real"]
    cells = [f"{real[m]:.4g}" if real.get(m) is not None else "-" for m in METRICS]
    lines.append("| real data (train vs test) | " + " | ".join(cells) + " | - | - | - |")
    return "\n".join(lines) + "\n"


def recorded_note(ledger: dict, variants: list[str]) -> str:
    by_source: dict[str, list[str]] = {}
    for variant in variants:
        if group := ledger["recorded"].get(variant):
            seeds = group["seeds"]
            by_source.setdefault(group["source"], []).append(
                f"{variant} seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"
            )
    if not by_source:
        return ""
    described = ". ".join(f"{'; '.join(groups)} ({source})" for source, groups in by_source.items())
    return (
        f"Recorded groups, whose run folders are gone: {described}. Their mean ± std, as the table printed them "
        f"then, are pooled with the runs scored one by one since.\n\n"
    )


def sgan_time_to_target(ledger: dict, target: float = 0.985) -> str:
    """When SGAN's mean test accuracy over the seeds first reaches ``target`` (evaluated every epoch)."""
    recorded = ledger["recorded"].get("sgan", {}).get("time_to_target")
    runs = [run for run in ledger["runs"].values() if run["variant"] == "sgan" and run.get("test_accuracy_curve")]
    if not runs:
        return recorded or ""
    curves = [{int(step): acc for step, acc in run["test_accuracy_curve"].items()} for run in runs]
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    if not steps:
        return recorded or ""
    last = [c[steps[-1]] for c in curves]  # where every seed stands at the last evaluation they all reached
    mean_last = pooled([(v, 0.0, 1) for v in last])
    text = (
        f"SGAN's seeds scored one by one ({len(runs)}): at step {steps[-1]:,}, the last evaluation every one has "
        f"reached, the test accuracy is {formatted(mean_last)}."
    )
    for step in steps:
        mean = sum(c[step] for c in curves) / len(curves)
        if mean >= target:
            minutes = [run["wall_minutes"] * step / run["step"] for run in runs if run["wall_minutes"]]
            where = ", ".join(sorted({run.get("machine", "?") for run in runs}))
            about = f"; about {sum(minutes) / len(minutes):.0f} minutes per run on {where}" if minutes else ""
            text += f" Their mean first reaches {target:.3f} at step {step:,} (epoch {step / 600:g}{about})."
            break
    else:
        text += f" Their mean never reaches {target:.3f}."
    return text + (f" {recorded}" if recorded else "")


def target_checks(variants: list[str], ledger: dict) -> str:
    """Each target of issue #7 beside the measured mean, and whether it is met (MOGAN: FID *or* class entropy)."""
    real_fid = ledger["real"]["fid"]

    def mean(variant: str, key: str) -> float | None:
        value = values(ledger, variant, key) if variant in variants else None
        return value[0] if value else None

    checks = []
    if (accuracy := mean("sgan", "test_accuracy")) is not None:
        checks.append(("sgan: test accuracy >= 0.985 (paper 0.9907)", accuracy, accuracy >= 0.985))
    if (first := mean("acgan", "epoch1_conditional_accuracy")) is not None:
        checks.append(("acgan: conditional accuracy >= 0.97 after 1 epoch", first, first >= 0.97))
    for variant, target in (("acgan", 0.99), ("cgan", 0.97)):
        if (value := mean(variant, "conditional_accuracy")) is not None:
            checks.append((f"{variant}: conditional accuracy >= {target} at the end", value, value >= target))
    for variant in ("gan", "mogan"):
        if (value := mean(variant, "class_entropy")) is not None:
            checks.append((f"{variant}: class entropy >= 2.25", value, value >= 2.25))
    if (gan := mean("gan", "fid")) and (mogan := mean("mogan", "fid")):
        checks.append((f"mogan: FID better than gan's ({gan:.4g})", mogan, mogan < gan))
    if (gan := mean("gan", "class_entropy")) and (mogan := mean("mogan", "class_entropy")):
        checks.append((f"mogan: class entropy higher than gan's ({gan:.4g})", mogan, mogan > gan))
    for variant in variants:
        if (value := mean(variant, "fid")) is not None:
            checks.append(
                (f"{variant}: FID <= 10x the real-data row ({10 * real_fid:.3g})", value, value <= 10 * real_fid)
            )
    unfinished = {run["variant"] for run in ledger["runs"].values() if not run["finished"]}
    lines = ["| target | measured | met |", "|---|---|---|"]
    for name, value, ok in checks:
        name += " (unfinished run)" * any(name.startswith(v + ":") for v in unfinished)
        lines.append(f"| {name} | {value:.4g} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def score(args: argparse.Namespace, variants: list[str], report_dir: Path) -> dict:
    """``ganzoo compare`` on the folders of runs on this machine, into a fresh report folder."""
    shutil.rmtree(report_dir, ignore_errors=True)  # the report is written anew from the runs
    compare = ganzoo(
        "compare",
        *(str(RUNS / v) for v in variants),
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
    return json.loads((report_dir / "report.json").read_text())


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
        "--table-only",
        action="store_true",
        help=f"train and score nothing: rewrite RESULTS.md from benchmarks/{LEDGER.name}",
    )
    args = parser.parse_args()
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    ledger = load_ledger()
    jobs = runs_to_train(ledger, args.variants, args.seeds)
    started = time.perf_counter()
    if not (args.score_only or args.table_only):
        with ThreadPoolExecutor(args.jobs) as pool:
            for message in pool.map(lambda job: train(*job, threads, args.data_root), jobs):
                print(message, flush=True)
    report_dir = RUNS / "report"
    on_this_machine = [v for v in args.variants if any((RUNS / v).glob("seed*/metrics.jsonl"))]
    grid_note = "seed 0, same noise, from the last sitting that had every seed 0 on the machine"
    if on_this_machine and not args.table_only:
        report = score(args, on_this_machine, report_dir)
        update_ledger(ledger, report)
        LEDGER.write_text(json.dumps(ledger, indent=1, sort_keys=True) + "\n")
        if all((RUNS / v / "seed0").is_dir() for v in args.variants):
            shutil.copyfile(report_dir / "grid.png", HERE / "zoo-grid.png")
            grid_note = "seed 0, same noise"
    if not ledger["real"]:
        raise SystemExit(f"nothing to tabulate: no runs in {RUNS} and no scores in {LEDGER}.")
    evaluator = ledger["evaluator"]
    header = (
        f"# ganzoo's zoo on MNIST\n\nWritten by `python benchmarks/zoo.py` on {datetime.now():%Y-%m-%d} ({machine()}). "
        f"Every variant trained with its default recipe (`recipes/VARIANT-mnist.toml`) for the budget in the "
        f"table (the budget column says how many seeds); each run scored on {args.n:,} samples by ganzoo's MNIST "
        f"evaluator (test accuracy {evaluator['test_accuracy']:.4f}, sha256 {evaluator['sha256'][:12]}); mean ± std "
        f"over the seeds. Each run's scores are kept in [`{LEDGER.name}`]({LEDGER.name}), so the table outlives the "
        f"run folders (ignored by git). FID and precision/recall are measured in the evaluator's 128-feature space "
        f"(not Inception's): compare them with the real-data row, not with papers' Inception FIDs.\n\n"
    )
    minutes = (time.perf_counter() - started) / 60
    RESULTS.write_text(
        header
        + results_table(args.variants, ledger)
        + "\n"
        + recorded_note(ledger, args.variants)
        + f"{sgan_time_to_target(ledger)}\n\n"
        + target_checks(args.variants, ledger)
        + f"\n![each variant's samples](zoo-grid.png)\n\n*Left to right: {', '.join(args.variants)} ({grid_note}; "
        + "rows: classes for the conditional variants).*\n\n"
        + f"This invocation took {minutes:.0f} minutes (runs reused from earlier sittings are not counted).\n"
    )
    print(f"wrote {RESULTS}" + (f" and {report_dir}/report.html" if report_dir.is_dir() else ""))


if __name__ == "__main__":
    main()
