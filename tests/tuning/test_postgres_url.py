"""A plain `postgresql://` URL works in Optuna's own tools with the `postgres` extra (psycopg 3).

SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; with psycopg2 alone, `optuna.load_study` and
`optuna-dashboard` failed with "Failed to import DB access module" on the very URL `gradwise tune` took.
"""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

SMALL = ["--hidden-units", "4:8", "--layers", "1:1"]


def test_the_url_given_to_tune_opens_the_study_in_optuna_itself(postgres_url, gradwise_cli):
    assert postgres_url.startswith("postgresql://")  # no +driver: what a user types
    done = gradwise_cli.run("tune", "--dataset", "moons", "--trials", "2", "--fine-trials", "0", "--epochs",
                            "2", *SMALL, "--storage", postgres_url, "--study", "plain-url", "--worker-only",
                            "--quiet")
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="plain-url", storage=postgres_url)  # Optuna's own URL handling
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    storage = optuna.storages.RDBStorage(postgres_url)  # what optuna-dashboard builds from the URL
    assert "plain-url" in [s.study_name for s in optuna.get_all_study_summaries(storage)]
