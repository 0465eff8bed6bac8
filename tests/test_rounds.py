"""The round book: membership, ranking, tie-breaks, divergence, flat rounds, failures."""

import math

import pytest

from tune_gamma.rounds import DONE, ERROR, RoundBook, RoundFailedError


def _book(samples=3, rounds=2, mode="max"):
    return RoundBook(samples, rounds, "kappa", mode)


def _fill(book, results):
    """results: list of (metrics or None for an error); adds and finishes one round."""
    ids = []
    for i in range(len(results)):
        tid = f"r{len(book.rounds)}t{i}"
        book.add_trial(tid, {"lr": 0.1 * (i + 1)})
        ids.append(tid)
    for tid, metrics in zip(ids, results, strict=True):
        if metrics is None:
            book.record_error(tid)
        else:
            book.record_result(tid, metrics, f"/ckpt/{tid}")
    return ids


def test_winner_is_best_metric_and_next_round_starts_from_it():
    book = _book()
    ids = _fill(book, [{"kappa": 0.2, "accuracy": 0.9, "loss": 0.3},
                       {"kappa": 0.7, "accuracy": 0.8, "loss": 0.4},
                       {"kappa": 0.5, "accuracy": 0.95, "loss": 0.2}])
    record = book.current
    assert book.is_complete(record)
    winner = book.close_round(record)
    assert winner.trial_id == ids[1]
    assert book.schedule == [{"lr": pytest.approx(0.2)}]
    nxt = book.open_round()
    assert nxt.start_checkpoint == f"/ckpt/{ids[1]}"


def test_min_mode_prefers_lower_metric():
    book = _book(mode="min")
    ids = _fill(book, [{"kappa": 0.2}, {"kappa": 0.7}, {"kappa": 0.5}])
    assert book.close_round(book.current).trial_id == ids[0]


def test_ties_break_by_accuracy_then_loss_and_flat_round_is_counted():
    book = _book(samples=4)
    ids = _fill(book, [{"kappa": 0.0, "accuracy": 0.5, "loss": 1.2},
                       {"kappa": 0.0, "accuracy": 0.6, "loss": 1.3},
                       {"kappa": 0.0, "accuracy": 0.6, "loss": 1.1},
                       {"kappa": 0.0, "accuracy": 0.4, "loss": 0.9}])
    winner = book.close_round(book.current)
    assert winner.trial_id == ids[2]
    assert book.current.flat and book.flat_rounds == 1


def test_diverged_trial_never_wins():
    book = _book()
    ids = _fill(book, [{"kappa": math.nan, "accuracy": 0.99, "loss": math.nan},
                       {"kappa": 0.0, "accuracy": 0.99, "loss": math.inf},
                       {"kappa": 0.1, "accuracy": 0.3, "loss": 0.9}])
    assert book.close_round(book.current).trial_id == ids[2]


def test_all_diverged_keeps_the_rounds_start():
    book = _book()
    _fill(book, [{"kappa": 0.5, "loss": 0.1}] * 3)
    first = book.close_round(book.current)
    book.open_round()
    _fill(book, [{"kappa": math.nan, "loss": math.nan}] * 3)
    assert book.close_round(book.current) is None
    assert book.next_start_checkpoint() == first.checkpoint
    assert book.schedule[1] is None


def test_errors_are_left_out_and_a_round_without_survivors_fails():
    book = _book()
    ids = _fill(book, [None, {"kappa": 0.1}, None])
    assert book.trials[ids[0]].status == ERROR and book.trials[ids[1]].status == DONE
    assert book.close_round(book.current).trial_id == ids[1]
    book.open_round()
    _fill(book, [None, None, None])
    with pytest.raises(RoundFailedError, match="round 1: all 3 trials failed"):
        book.close_round(book.current)


def test_round_is_not_complete_until_full_and_finished():
    book = _book()
    book.add_trial("a", {"lr": 0.1})
    book.record_result("a", {"kappa": 1.0}, "/c/a")
    assert not book.is_complete(book.current)
    book.add_trial("b", {"lr": 0.2})
    book.add_trial("c", {"lr": 0.3})
    with pytest.raises(RuntimeError, match="already has 3 trials"):
        book.add_trial("d", {"lr": 0.4})
    book.record_result("b", {"kappa": 1.0}, "/c/b")
    assert not book.is_complete(book.current)
    book.reset_trial("b")
    assert book.trials["b"].status == "pending" and book.trials["b"].checkpoint is None


def test_finished_after_all_rounds_and_json_record():
    book = _book(samples=1, rounds=2)
    _fill(book, [{"kappa": 0.3, "accuracy": 0.5, "loss": 0.4}])
    book.close_round(book.current)
    assert not book.finished
    book.open_round()
    _fill(book, [{"kappa": 0.4, "accuracy": 0.6, "loss": 0.3}])
    book.close_round(book.current)
    assert book.finished
    with pytest.raises(RuntimeError, match="all 2 rounds are closed"):
        book.open_round()
    record = book.to_dict()
    assert [r["round"] for r in record["rounds"]] == [0, 1]
    assert record["rounds"][1]["winner_metrics"]["kappa"] == pytest.approx(0.4)
    assert record["rounds"][1]["start_checkpoint"] == "/ckpt/r0t0"


@pytest.mark.parametrize("kwargs, bad", [({"samples_per_round": 0}, "0"),
                                         ({"rounds": 0}, "0"), ({"mode": "up"}, "up")])
def test_bad_arguments_name_the_value(kwargs, bad):
    args = {"samples_per_round": 2, "rounds": 2, "metric": "kappa", "mode": "max", **kwargs}
    with pytest.raises(ValueError, match=bad):
        RoundBook(**args)


def test_beaten_lists_finished_trials_that_can_no_longer_win():
    book = _book(samples=5)
    ids = [f"t{i}" for i in range(5)]
    for tid in ids:
        book.add_trial(tid, {"lr": 0.1})
    record = book.current

    def beaten_after(tid, metrics):
        book.record_result(tid, metrics, f"/ckpt/{tid}")
        out = [t.trial_id for t in book.beaten(record)]
        for trial_id in out:
            book.mark_checkpoint_deleted(trial_id)
        return out

    assert beaten_after("t2", {"kappa": 0.5, "accuracy": 0.8, "loss": 0.3}) == []
    assert beaten_after("t0", {"kappa": 0.4, "accuracy": 0.9, "loss": 0.2}) == ["t0"]
    # An exact tie with the leader: the first in proposal order (t1 before t2) leads.
    assert beaten_after("t1", {"kappa": 0.5, "accuracy": 0.8, "loss": 0.3}) == ["t2"]
    assert beaten_after("t4", {"kappa": math.nan, "accuracy": 0.1, "loss": math.nan}) == ["t4"]
    assert book.leader(record).trial_id == "t1"
    assert beaten_after("t3", {"kappa": 0.6, "accuracy": 0.7, "loss": 0.4}) == ["t1"]
    assert book.close_round(record).trial_id == "t3"
    assert [t for t in ids if book.trials[t].checkpoint_deleted] == ["t0", "t1", "t2", "t4"]
    assert book.beaten(record) == []  # the winner's checkpoint is never listed
    assert book.to_dict()["rounds"][0]["trials"][0]["checkpoint_deleted"] is True


def test_a_forgotten_checkpoint_cannot_win_and_a_reset_trial_starts_clean():
    book = _book(samples=3)
    ids = _fill(book, [{"kappa": 0.9}, {"kappa": 0.2}, {"kappa": 0.5}])
    record = book.current
    book.forget_checkpoint(ids[0])  # gone from storage when a resumed run looked for it
    assert book.leader(record).trial_id == ids[2]
    assert book.close_round(record).trial_id == ids[2]
    book.mark_checkpoint_deleted(ids[1])
    book.reset_trial(ids[1])
    assert not book.trials[ids[1]].checkpoint_deleted and book.trials[ids[1]].checkpoint is None
