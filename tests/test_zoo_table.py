"""benchmarks/zoo.py's ledger: seeds scored in different sittings pool into the same mean ± std as their raw values."""

import importlib.util
import statistics
from pathlib import Path

import pytest

ZOO = Path(__file__).resolve().parent.parent / "benchmarks" / "zoo.py"


@pytest.fixture(scope="module")
def zoo():
    spec = importlib.util.spec_from_file_location("zoo", ZOO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def group(values):
    return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))


def test_pooled_groups_give_the_raw_values_mean_and_std(zoo):
    raw = [8.92, 8.60, 9.71, 8.05, 10.3]
    mean, std, count = zoo.pooled([group(raw[:2]), group(raw[2:3]), group(raw[3:])])
    assert count == 5
    assert mean == pytest.approx(statistics.fmean(raw), abs=1e-12)
    assert std == pytest.approx(statistics.stdev(raw), abs=1e-12)
    assert zoo.pooled([]) is None and zoo.pooled([group([3.0])]) == (3.0, 0.0, 1)


def ledger(fids_recorded, fid_new):
    recorded = {
        "seeds": list(range(len(fids_recorded))),
        "source": "an earlier sitting",
        "fid": {"mean": statistics.fmean(fids_recorded), "std": statistics.stdev(fids_recorded)},
        "class_entropy": {"mean": 2.29, "std": 0.001},
        "step": 9375,
        "epoch": 5.0,
        "wall_minutes": {"mean": 50.0, "std": 2.0},
        "machine": "CPU A",
        "dtype": "fp32",
    }
    run = {
        "variant": "gan",
        "seed": len(fids_recorded),
        "fid": fid_new,
        "class_entropy": 2.30,
        "step": 9375,
        "epoch": 5.0,
        "finished": True,
        "wall_minutes": 40.0,
        "machine": "CPU B",
        "dtype": "bf16",
    }
    return {
        "evaluator": {"sha256": "0" * 64, "test_accuracy": 0.99},
        "real": {"fid": 2.0, "class_entropy": 2.3},
        "runs": {f"gan/seed{run['seed']}": run},
        "recorded": {"gan": recorded},
    }


def test_the_table_pools_a_recorded_group_with_a_later_seed(zoo):
    book = ledger([8.0, 9.0], 13.0)
    table = zoo.results_table(["gan"], book)
    row = next(line for line in table.splitlines() if line.startswith("| gan |"))
    assert f"| {statistics.fmean([8.0, 9.0, 13.0]):.4g} ± {statistics.stdev([8.0, 9.0, 13.0]):.2g} |" in row
    assert "9,375 steps (5 epochs), 3 seeds" in row and "unfinished" not in row
    assert (
        "| 50 ± 2 min (CPU A, fp32, 2 runs); 40 min (CPU B, bf16, 1 run) |" in row
    )  # wall times are not pooled across CPUs
    checks = zoo.target_checks(["gan"], book)
    assert "| gan: FID <= 10x the real-data row (20) | 10 | yes |" in checks
    # the recorded seeds are not trained again; the others are
    assert zoo.runs_to_train(book, ["gan", "cgan"], 3) == [("gan", 2), ("cgan", 0), ("cgan", 1), ("cgan", 2)]


def test_an_unfinished_run_is_marked(zoo):
    book = ledger([8.0, 9.0], 30.0)
    book["runs"]["gan/seed2"].update(finished=False, step=4000, epoch=2.13)
    row = next(line for line in zoo.results_table(["gan"], book).splitlines() if line.startswith("| gan |"))
    assert "4,000 / 9,375 steps (2.13 / 5 epochs), 3 seeds (**unfinished**" in row
    assert "(unfinished run)" in zoo.target_checks(["gan"], book)
