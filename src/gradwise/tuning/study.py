"""A study: its plan, the queue of trials that every worker draws from, and the worker loop.

The plan
    The process that creates a study (Optuna's ``create_study`` is atomic: a second creator gets
    ``DuplicatedStudyError`` and joins instead) stores the plan in the study — trial counts, search
    space, sampler, pruner, seed and a fingerprint of the data — and enqueues one WAITING *ticket* per
    planned trial: `trials` coarse ones, then `fine_trials` fine ones. Every worker, on any machine, only
    ever runs trials it claims from that queue (claiming is an atomic WAITING → RUNNING transition in the
    storage), so a study of N trials records exactly N finished trials however many workers share it —
    workers never create trials of their own. A worker that joins checks that it was given the same plan
    and the same data, and refuses to mix studies otherwise.

Coarse to fine
    Fine tickets are claimed only once no coarse trial is waiting or running. The first worker to claim one
    computes the fine space from the finished coarse trials — the best `top_fraction` of them (at least
    2), each numeric range narrowed to span their values (:meth:`SearchSpace.narrow`) — and stores it in
    the study, where the other workers read it.

Reproducibility
    Each trial's sampler is seeded from (seed, trial number), so with the random sampler the sampled
    configurations depend on the seed only, not on which worker ran which trial; each network is
    initialized from `seed` itself, so trials differ by their hyperparameters alone.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import GradwiseValueError, Preempted, TrainingDivergedError
from . import storage as st
from .objective import TUNE_METRICS, TuningData, metric_score, objective_value, train_config
from .space import SearchSpace
from .tracking import TrialTracking

__all__ = ["StudyPlan", "open_study", "run_worker", "fine_space", "stage_of"]

PLAN_ATTR = "gradwise:plan"
READY_ATTR = "gradwise:ready"
FINE_ATTR = "gradwise:fine_space"
STAGE_ATTR = "gradwise:stage"
CONFIG_ATTR = "config"
PLAN_VERSION = 1
COARSE, FINE = 1, 2
STAGE_NAMES = {COARSE: "coarse", FINE: "fine"}


@dataclass(frozen=True)
class StudyPlan:
    """What a tuning study is (its trials, space, sampler, seed and data): every worker must be started with
    the same plan and data (checked on joining). Stored in the study as `gradwise:plan`."""

    trials: int
    fine_trials: int
    top_fraction: float
    space: dict
    sampler: str
    pruner: str
    seed: int
    standardize: bool
    dtype: str
    data: str  # TuningData.fingerprint()
    data_name: str
    task: str
    version: int = PLAN_VERSION
    metric: str | None = None  # None: dev error (classification) or dev RMSE
    class_weight: str | dict | None = None  # "balanced" or {class index as text: weight}

    @property
    def fit_class_weight(self) -> str | dict[int, float] | None:
        """`class_weight` as ``fit`` takes it (JSON keeps dict keys as text: back to class indices)."""
        if isinstance(self.class_weight, dict):
            return {int(k): float(v) for k, v in self.class_weight.items()}
        return self.class_weight

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict) -> StudyPlan:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @property
    def coarse_space(self) -> SearchSpace:
        return SearchSpace.from_dict(self.space)


_FLAG = {"trials": "--trials", "fine_trials": "--fine-trials", "top_fraction": "--top-fraction",
         "space": "the search space", "sampler": "--sampler", "pruner": "--pruner", "seed": "--seed",
         "standardize": "--no-standardize", "dtype": "--dtype", "data": "the data", "task": "the task",
         "metric": "--metric", "class_weight": "--class-weight"}


def _check_same(name: str, stored: StudyPlan, mine: StudyPlan) -> None:
    for key, flag in _FLAG.items():
        a, b = getattr(stored, key), getattr(mine, key)
        if a != b:
            shown = "" if key in ("space", "data") else f": the study has {a!r}, this run asks for {b!r}"
            raise GradwiseValueError(
                f"study {name!r} was created with different settings ({flag}{shown}); run it with the same "
                f"settings to resume or join it, or choose a new study name")


# ---------------------------------------------------------------------------------- samplers etc.


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial `number`: independent of the worker that runs it."""
    return int(np.random.SeedSequence([int(seed), int(number)]).generate_state(1)[0])


def make_sampler(kind: str, seed: int, number: int):
    import optuna

    if kind == "tpe":
        # constant_liar: running trials count as bad guesses, so parallel workers do not pile up on one point
        with st._quiet():
            return optuna.samplers.TPESampler(seed=trial_seed(seed, number), constant_liar=True)
    return optuna.samplers.RandomSampler(seed=trial_seed(seed, number))


def make_pruner(kind: str, space: SearchSpace):
    import optuna

    if kind == "none":
        return optuna.pruners.NopPruner()
    epochs = space["epochs"]
    if epochs.kind == "fixed":
        least = int(epochs.value)
    elif epochs.kind == "choice":  # no bounds: the smallest choice
        least = min(int(c) for c in epochs.choices)
    else:
        assert epochs.low is not None  # a range: __post_init__ set both bounds
        least = int(epochs.low)
    # The median rule needs a few finished trials to compare with, and a few epochs before a trial's
    # dev cost says anything about where it is heading.
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, least // 5))


def stage_of(trial) -> int:
    return int(trial.user_attrs.get(STAGE_ATTR, COARSE))


# ------------------------------------------------------------------------------------------- study


def open_study(storage, name: str, plan: StudyPlan, *, wait: float = 120.0, log: Callable[[str], None] = print):
    """Create the study with its plan and tickets, or join it (checking the plan); return the Study."""
    import optuna

    coarse = plan.coarse_space
    pruner = make_pruner(plan.pruner, coarse)
    sampler = make_sampler(plan.sampler, plan.seed, 0)
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="minimize", sampler=sampler,
                                    pruner=pruner)
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        _join(study, name, plan, wait, log)
        return study
    study.set_user_attr(PLAN_ATTR, plan.to_dict())
    with st._quiet():
        study.set_metric_names([_objective_name(plan)])
    _top_up(study, plan)
    study.set_user_attr(READY_ATTR, True)
    return study


def _objective_name(plan: StudyPlan) -> str:
    """What the study's values are: dev_error, dev_rmse, dev_<metric> or minus_dev_<metric>."""
    if plan.metric is None:
        return "dev_error" if plan.task != "regression" else "dev_rmse"
    return ("minus_" if TUNE_METRICS[plan.metric][1] else "") + f"dev_{plan.metric}"


def _top_up(study, plan: StudyPlan) -> None:
    """Enqueue the tickets the plan asks for that the study does not hold yet."""
    have = {COARSE: 0, FINE: 0}
    for t in study.get_trials(deepcopy=False):
        # a retried trial (Optuna's retry callback marks it "failed_trial") replaces its ticket
        if t.user_attrs.get(STAGE_ATTR) in have and "failed_trial" not in t.system_attrs:
            have[t.user_attrs[STAGE_ATTR]] += 1
    for stage, wanted in ((COARSE, plan.trials), (FINE, plan.fine_trials)):
        for _ in range(wanted - have[stage]):
            study.enqueue_trial({}, user_attrs={STAGE_ATTR: stage})


def _join(study, name: str, plan: StudyPlan, wait: float, log) -> None:
    deadline = time.monotonic() + wait
    while True:
        attrs = study.user_attrs
        if attrs.get(READY_ATTR):
            break
        if PLAN_ATTR not in attrs and study.get_trials(deepcopy=False):
            raise GradwiseValueError(f"study {name!r} exists but was not created by gradwise tune")
        if time.monotonic() > deadline:
            if PLAN_ATTR not in attrs:
                raise GradwiseValueError(f"study {name!r} exists but holds no gradwise plan")
            # its creator died while enqueueing: finish the job
            log(f"study {name!r}: its creator did not finish enqueueing; completing the queue")
            _top_up(study, StudyPlan.from_dict(attrs[PLAN_ATTR]))
            study.set_user_attr(READY_ATTR, True)
            break
        time.sleep(0.5)
    stored = StudyPlan.from_dict(study.user_attrs[PLAN_ATTR])
    _check_same(name, stored, plan)


def fine_space(study, plan: StudyPlan) -> SearchSpace:
    """The fine space (computed once from the finished coarse trials, then read from the study)."""
    from optuna.trial import TrialState

    cached = study.user_attrs.get(FINE_ATTR)
    if cached:
        return SearchSpace.from_dict(cached)
    coarse = plan.coarse_space
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if stage_of(t) == COARSE and CONFIG_ATTR in t.user_attrs]
    done.sort(key=lambda t: (t.value, t.number))
    if len(done) < 2:
        space = coarse  # nothing to zoom in on: sample the coarse space again
    else:
        top = done[:max(2, math.ceil(plan.top_fraction * len(done)))]
        space = coarse.narrow([t.user_attrs[CONFIG_ATTR] for t in top])
    study.set_user_attr(FINE_ATTR, space.to_dict())
    return space


# ------------------------------------------------------------------------------------------ worker

_DONE, _WAIT = "done", "wait"


def _claim(study, identity: dict):
    """Atomically take the next waiting ticket (coarse before fine); `_DONE` when none is left.

    The ticket is signed by `identity` before it is taken, so a worker killed right after taking it is
    still known (see :mod:`gradwise.tuning.storage`).
    """
    import optuna
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    waiting = sorted((t for t in trials if t.state == TrialState.WAITING),
                     key=lambda t: (stage_of(t), t.number))
    if not waiting:
        return _DONE
    retried = {n for n in map(st.retried_from, trials) if n is not None}
    coarse_open = any(stage_of(t) == COARSE and (t.state in (TrialState.WAITING, TrialState.RUNNING)
                                                  or st.awaits_retry(t, retried)) for t in trials)
    for t in waiting:
        if stage_of(t) == FINE and coarse_open:
            return _WAIT  # the fine space needs every coarse trial finished
        try:
            st.sign_claim(study, t._trial_id, identity)
            if study._storage.set_trial_state_values(t._trial_id, state=TrialState.RUNNING):
                return t._trial_id
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return _WAIT


@dataclass
class WorkerReport:
    ran: int = 0
    complete: int = 0
    pruned: int = 0
    reaped: int = 0


def run_worker(study, storage, data: TuningData, plan: StudyPlan, *, threads: int | None = 1,
               log: Callable[[str], None] = print, poll: float = 0.5,
               max_trials: int | None = None, tracking: TrialTracking | None = None) -> WorkerReport:
    """Claim and run tickets until the queue is empty (or `max_trials` ran); return what this worker did.

    `storage` is the raw storage object (for its heartbeat); `threads` limits BLAS threads while training
    (None: leave them alone) — one per worker process is fastest on a shared machine. `tracking`: event
    files and Optuna callbacks around each trial.
    """
    tracking = tracking if tracking is not None else TrialTracking()
    if data.fingerprint() != plan.data:
        raise GradwiseValueError("these data are not the data the study was planned on")
    report = WorkerReport()
    identity = st.worker_identity()
    while max_trials is None or report.ran < max_trials:
        if tracking.stop is not None:
            tracking.stop.check("stopped between trials")
        reaped = st.reap(study)
        if reaped:
            report.reaped += len(reaped)
            log(f"trial(s) {', '.join(map(str, reaped))} lost their worker: failed and queued again")
        claimed = _claim(study, identity)
        if claimed == _DONE:
            break
        if claimed == _WAIT:
            time.sleep(poll)
            continue
        state = _run_trial(study, storage, claimed, data, plan, identity, threads, log, tracking)
        report.ran += 1
        report.complete += state == "COMPLETE"
        report.pruned += state == "PRUNED"
    return report


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager:
    """At most `threads` BLAS threads inside the block (None: no limit), so K workers share the cores."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(threads), user_api="blas")


def _run_trial(study, storage, trial_id: int, data: TuningData, plan: StudyPlan, identity: dict,
               threads: int | None, log, tracking: TrialTracking) -> str:
    import optuna
    from optuna.trial import TrialState

    frozen = study._storage.get_trial(trial_id)
    stage = stage_of(frozen)
    space = plan.coarse_space if stage == COARSE else fine_space(study, plan)
    study.sampler = make_sampler(plan.sampler, plan.seed, frozen.number)
    trial = optuna.trial.Trial(study, trial_id)
    study._storage.set_trial_system_attr(trial_id, st.WORKER_ATTR, identity)
    started = time.perf_counter()
    value, state, note = None, TrialState.COMPLETE, ""
    with st.Heartbeat(storage, trial_id), blas_threads(threads):
        try:
            config = space.suggest(trial)
            trial.set_user_attr(CONFIG_ATTR, config)
            _, history, monitor = train_config(
                config, data.X_train, data.y_train, task=data.task, n_outputs=data.n_outputs,
                seed=plan.seed, dtype=plan.dtype, standardize=plan.standardize,
                dev=(data.X_dev, data.y_dev), trial=trial, metric=plan.metric,
                class_weight=plan.fit_class_weight, scaled_columns=data.scaled_columns,
                callbacks=tracking.fit_callbacks(frozen.number))
            scores = monitor.scores[-1]
            value = objective_value(scores, plan.metric)
            for key, v in scores.items():
                trial.set_user_attr(f"dev_{key}", v)
            trial.set_user_attr("train_cost", history["cost"][-1])
            if "accuracy" in history.history:
                trial.set_user_attr("train_accuracy", history["accuracy"][-1])
        except optuna.TrialPruned as exc:
            state, note = TrialState.PRUNED, str(exc)
        except TrainingDivergedError as exc:
            # a learning rate too large for its β and batch size: hopeless, like a pruned trial
            state, note = TrialState.PRUNED, "diverged: " + str(exc)
        except (KeyboardInterrupt, Preempted) as exc:
            # SIGTERM or Ctrl-C stops the worker, not the plan: the trial goes back in the queue, so running
            # the same command again completes the study
            with _suppress_all():
                st.requeue(study, trial_id, "Ctrl-C" if isinstance(exc, KeyboardInterrupt) else str(exc))
            if isinstance(exc, Preempted):
                raise Preempted(f"{exc} of trial {frozen.number}, which is back in the queue") from None
            raise
        except BaseException as exc:  # an error in the objective is not retried: it would fail again
            with _suppress_all():
                trial.set_user_attr(st.ERROR_ATTR, f"{type(exc).__name__}: {exc}"[:500])
                study.tell(trial, state=TrialState.FAIL)
            raise
    seconds = time.perf_counter() - started
    trial.set_user_attr("seconds", seconds)
    if note:
        trial.set_user_attr("note", note[:500])
    if state == TrialState.COMPLETE:
        study.tell(trial, value)
    else:
        study.tell(trial, state=state)
    tracking.after_trial(study, trial_id)
    log(_trial_line(frozen.number, stage, state.name, value, trial.user_attrs.get(CONFIG_ATTR, {}),
                    space, seconds, note, data.task, plan.metric))
    return state.name


def _suppress_all():
    import contextlib

    return contextlib.suppress(Exception)


def short_config(config: dict, space: SearchSpace) -> str:
    """The searched hyperparameters of a configuration, compactly."""
    parts = []
    for name in space.searched:
        if name not in config:
            continue
        v = config[name]
        parts.append(f"{name}={v:.3g}" if isinstance(v, float) else f"{name}={v}")
    return " ".join(parts)


def _trial_line(number, stage, state, value, config, space, seconds, note, task, metric=None) -> str:
    tag = f"[{STAGE_NAMES.get(stage, str(stage))}]"
    if state == "COMPLETE":
        name, shown = metric_score(value, metric, task)
        score = f"dev {name} {shown:.4f}" if name != "rmse" else f"dev rmse {shown:.4g}"
    else:
        score = state.lower() + (f" ({note.split(':')[0]})" if note.startswith("diverged") else "")
    return f"trial {number:>4} {tag:<8} {score:<22} {seconds:6.1f}s  {short_config(config, space)}"
