"""The corpus generator's tasks, schedules, labelling rule and log writers."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from benchmarks.corpus import labels, plan, tasks, train, writers  # noqa: E402


@pytest.mark.parametrize("name", list(tasks.TASKS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_task_factory_builds_and_one_step_gives_finite_loss(name: str, optimizer: str) -> None:
    parts = tasks.make(name, optimizer=optimizer, seed=0)
    assert set(parts) == {"model", "loss_fn", "batches", "val_batches", "optimizer"}
    model, loss_fn = parts["model"], parts["loss_fn"]
    opt = parts["optimizer"](model.parameters(), 1e-3)
    x, y = next(iter(parts["batches"]))
    assert len(x) == tasks.TASKS[name].batch_size
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    assert math.isfinite(loss.item())
    # Re-iterable: a second pass yields the same number of minibatches (one epoch each).
    assert sum(1 for _ in parts["batches"]) == sum(1 for _ in parts["batches"]) == tasks.steps_per_epoch(name)
    val = train.evaluate(model, loss_fn, parts["val_batches"])
    assert math.isfinite(val)


def test_same_seed_gives_same_weights_and_batches() -> None:
    a = tasks.make("digits_mlp", optimizer="sgd", seed=3)
    b = tasks.make("digits_mlp", optimizer="sgd", seed=3)
    for pa, pb in zip(a["model"].parameters(), b["model"].parameters(), strict=False):
        assert torch.equal(pa, pb)
    assert torch.equal(next(iter(a["batches"]))[1], next(iter(b["batches"]))[1])


def test_text_corpus_is_local_and_sized() -> None:
    text = tasks.corpus_text()
    assert 20_000 <= len(text.encode("utf-8")) <= 50_000
    assert "Optical recognition of handwritten digits" in text


def test_linreg_hessian_condition_number() -> None:
    x = tasks.linreg_data()[0].double()
    eig = torch.linalg.eigvalsh(x.T @ x / len(x))
    assert 3e2 < float(eig.max() / eig.min()) < 3e3  # LINREG_COND = 1e3, up to sampling


def _rates(schedule: str, *, lr: float, total: int, steps: int) -> list[float]:
    """The rate of each of `steps` optimizer steps under the corpus's scheduler."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    sched = train.make_scheduler(schedule, opt, lr=lr, total=total)
    seen = []
    for _ in range(steps):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()  # type: ignore[attr-defined]
    return seen


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("constant", [1.0] * 10),
        ("step", [1.0] * 5 + [0.1, 0.1] + [0.01] * 3),  # x0.1 at steps 5 and 7 of 10
        ("onecycle", None),
    ],
)
def test_schedules_factor_per_step(schedule: str, expected: list[float] | None) -> None:
    seen = _rates(schedule, lr=1.0, total=10, steps=10)
    if expected is None:  # one-cycle: starts at max/25, peaks at the max after 30%, ends far below
        assert seen[0] == pytest.approx(1.0 / 25) and seen[2] == pytest.approx(1.0) and seen[-1] < seen[0] / 10
    else:
        assert seen == pytest.approx(expected)


def test_cosine_warms_up_linearly_then_decays_to_zero() -> None:
    seen = _rates("cosine", lr=2.0, total=100, steps=101)  # 5 warmup steps
    assert seen[:6] == pytest.approx([0.4, 0.8, 1.2, 1.6, 2.0, 2.0])
    assert seen[52] == pytest.approx(1.0, abs=0.04) and seen[100] == pytest.approx(0.0)


def test_linear_warms_up_then_decays_linearly_to_zero() -> None:
    seen = _rates("linear", lr=1.0, total=100, steps=101)  # 10 warmup steps
    assert seen[0] == pytest.approx(0.1) and seen[9] == pytest.approx(1.0)
    assert seen[55] == pytest.approx(0.5) and seen[100] == pytest.approx(0.0)


# A synthetic sweep: rate -> final validation losses of its seeds; all runs start at 2.0.
SWEEP = {
    1e-4: [1.9],
    1e-3: [1.2],
    1e-2: [0.30, 0.34],
    1e-1: [0.20, 0.22],
    1.0: [0.35, math.inf],
    10.0: [math.inf],
}


def test_rate_scores_average_seeds_and_a_failed_seed_is_inf() -> None:
    scores = labels.rate_scores(SWEEP)
    assert scores[1e-1] == pytest.approx(0.21)
    assert scores[1e-2] == pytest.approx(0.32)
    assert scores[1.0] == math.inf and scores[10.0] == math.inf
    assert labels.best_rate(scores) == 1e-1
    assert labels.neighbours(sorted(SWEEP), 1e-1) == [1e-2, 1e-1, 1.0]


def test_labels_of_a_synthetic_sweep() -> None:
    best, best_val = 1e-1, 0.21
    # ok band: L - 0.21 <= 0.1 * (2.0 - 0.21) = 0.179, i.e. L <= 0.389.
    cases = {
        (1e-4, 1.9): "too_low",
        (1e-3, 1.2): "too_low",
        (1e-2, 0.34): "ok",
        (1e-2, 0.40): "too_low",
        (1e-1, 0.25): "ok",  # the best rate itself, another seed
        (1.0, 0.35): "ok",
        (1.0, math.inf): "too_high",  # a diverged run counts as +inf
        (10.0, math.inf): "too_high",
    }
    got = {
        (lr, final): labels.label(lr=lr, final=final, init=2.0, best_lr=best, best_val=best_val) for lr, final in cases
    }
    assert got == cases


def test_best_rate_refuses_a_sweep_where_everything_failed() -> None:
    with pytest.raises(ValueError, match="every rate"):
        labels.best_rate({1.0: math.inf, 10.0: math.inf})


def test_final_val_and_divergence() -> None:
    assert labels.final_val([2.0, 1.0, 0.5, 0.4, 0.3]) == pytest.approx(0.4)
    assert labels.final_val([2.0, 1.0, math.nan]) == math.inf
    # Finite but ending far above the start (1.5x the initial 2.0) is diverged too.
    assert labels.is_diverged([2.0, 3.5, 3.3], [2.0, 3.2], init_loss=2.0, window=2)
    assert not labels.is_diverged([2.0, 2.1, 2.2], [2.0, 2.1], init_loss=2.0, window=2)
    assert labels.is_diverged([2.0, math.nan], [2.0], init_loss=2.0, window=2)


def _result(losses: list[float], vals: dict[int, float]) -> train.RunResult:
    res = train.RunResult(train.RunSpec("digits_mlp", "sgd", "constant", 0.1, 0), steps_per_epoch=2, budget=4)
    res.train_steps = list(range(1, len(losses) + 1))
    res.train_loss = losses
    res.train_lr = [0.1] * len(losses)
    res.val_steps, res.val_loss = list(vals), list(vals.values())
    return res


def test_per_epoch_points_hold_epoch_means_and_the_nan() -> None:
    res = _result([4.0, 2.0, 1.0, math.nan], {0: 3.0, 2: 1.5})
    pts = writers.per_epoch(res, with_lr=False)
    assert [(p.x, p.step, p.lr, p.val) for p in pts] == [(1, 2, None, 1.5), (2, 4, None, None)]
    assert pts[0].loss == 3.0 and math.isnan(pts[1].loss)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", [f for f in writers.FORMATS if f != "tensorboard"])
def test_text_writers_are_byte_deterministic_and_keep_the_nan(fmt: str, tmp_path: Path) -> None:
    res = _result([4.0, 2.0, 1.0, math.nan], {0: 3.0, 2: 1.5})
    a = writers.write_run(res, tmp_path / "a", fmt=fmt, sparse=False, with_lr=True)
    b = writers.write_run(res, tmp_path / "b", fmt=fmt, sparse=False, with_lr=True)
    assert a.read_bytes() == b.read_bytes()
    assert "nan" in gzip.decompress(a.read_bytes()).decode().lower()


def test_csv_writer_layout(tmp_path: Path) -> None:
    res = _result([4.0, 2.0], {0: 3.0, 2: 1.5})
    path = writers.write_run(res, tmp_path, fmt="csv", sparse=False, with_lr=True)
    assert gzip.decompress(path.read_bytes()).decode() == (
        "step,loss,lr,val_loss\n0,,,3.0\n1,4.0,0.1,\n2,2.0,0.1,1.5\n"
    )


def test_a_runs_log_format_does_not_depend_on_the_extra_tasks_generated_with_it() -> None:
    from benchmarks.corpus.generate import first_jobs
    from benchmarks.corpus.writers import FORMATS

    # An extra task whose sweeps would sit elsewhere in the rotation if the ones before it were
    # left out (four sweeps each, one per optimizer).
    last = next(t for i, t in enumerate(plan.EXTRA_TASKS) if 4 * i % len(FORMATS))
    _, every = first_jobs(plan.all_sweeps(extra=True), smoke=False)
    _, some = first_jobs(plan.all_sweeps(extra=[last]), smoke=False)
    _, corpus = first_jobs(plan.all_sweeps(), smoke=False)
    formats = {j.run_id: j.fmt for j in every}
    assert {j.run_id for j in some} <= set(formats) and any(j.sweep.task == last for j in some)
    assert all(formats[j.run_id] == j.fmt for j in (*some, *corpus))
    assert len({j.fmt for j in some if j.sweep.task == last}) > 1  # the formats do rotate


def test_plan_grids_are_half_decades_and_cover_every_task() -> None:
    sweeps = plan.all_sweeps()
    outside = {t for t, _, _ in plan.OUTSIDE_SWEEPS}
    assert {s.task for s in sweeps if s.schedule == "constant"} == set(tasks.TASKS) - set(plan.EXTRA_TASKS) - outside
    # The outside tasks come after every other sweep.
    assert plan.sweep_index(plan.outside_sweeps()[0]) == len(plan.all_sweeps(extra=True))
    # --extra appends the kept-out tasks' sweeps and leaves the corpus's own in place.
    extra = plan.all_sweeps(extra=True)
    assert extra[: len(sweeps)] == sweeps and {s.task for s in extra[len(sweeps) :]} == set(plan.EXTRA_TASKS)
    # Some of them only: each sweep keeps the index (and so the log formats) it has among all.
    last = plan.EXTRA_TASKS[-1]
    some = plan.all_sweeps(extra=[last])
    assert {s.task for s in some[len(sweeps) :]} == {last}
    assert plan.sweep_index(some[len(sweeps)]) == len(sweeps) + 4 * (len(plan.EXTRA_TASKS) - 1)  # 4 optimizers each
    assert plan.sweep_index(extra[len(sweeps)]) == len(sweeps) and plan.sweep_index(sweeps[-1]) == len(sweeps) - 1
    with pytest.raises(ValueError, match="not an extra task"):
        plan.all_sweeps(extra=["digits_mlp"])
    for sched in ("step", "cosine", "onecycle"):
        assert len({s.task for s in sweeps if s.schedule == sched}) >= 3
    assert {s.optimizer for s in sweeps} == {"sgd", "adam", "rmsprop", "adagrad"}
    # Later optimizers come after every earlier sweep, so that earlier runs keep their log format.
    later = [i for i, s in enumerate(sweeps) if s.optimizer in plan.LATER_OPTIMIZERS]
    assert later == list(range(len(sweeps) - len(later), len(sweeps)))
    assert plan.lr_of(-5) == pytest.approx(3.1623e-3, rel=1e-4)
    assert [plan.lr_of(k) for k in plan.Sweep("digits_mlp", "sgd", "constant").grid()][::2] == pytest.approx(
        [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    )


def test_committed_labels_follow_the_rule() -> None:
    """Every label in benchmarks/corpus/labels.json is what the rule gives from its numbers."""
    doc = json.loads((Path(__file__).resolve().parents[1] / "benchmarks/corpus/labels.json").read_text())
    assert doc["settings"]["tau"] == labels.CONFIG.tau == 0.1
    runs = doc["runs"]
    assert len(runs) == 627 and len(doc["sweeps"]) == 42
    for r in runs:
        final = math.inf if r["diverged"] else r["final_val"]
        want = labels.label(lr=r["lr"], final=final, init=r["init_val"], best_lr=r["best_lr"], best_val=r["best_val"])
        assert r["label"] == want, r["run"]
    for s in doc["sweeps"]:
        finals: dict[float, list[float]] = {}
        for r in runs:
            if r["sweep"] == s["sweep"]:
                finals.setdefault(r["lr"], []).append(math.inf if r["diverged"] else r["final_val"])
        assert labels.best_rate(labels.rate_scores(finals)) == s["best_lr"], s["sweep"]
    assert Counter(r["label"] for r in runs) == {"too_high": 127, "ok": 293, "too_low": 207}
    assert sum(r["diverged"] for r in runs) == 35
