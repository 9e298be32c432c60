"""The training-speed gate (bench/test_training_speed.py) judged on round times whose truth is known: it fails
on a slowdown the rounds show, and holds where both trainers share the machine's slow episodes."""

from __future__ import annotations

import numpy as np

from bench.test_training_speed import MIN_RELATIVE_SPEED, relative_speed, speed_gate

ROUNDS = 12


def _rounds(seed: int, slow_episode: slice = slice(0, 0)) -> np.ndarray:
    """Round times near 2 s with 3% noise, 1.5x slower during ``slow_episode`` (the machine's slow mode)."""
    times = 2.0 * np.random.default_rng(seed).lognormal(0.0, 0.03, ROUNDS)
    times[slow_episode] *= 1.5
    return times


def test_equal_trainers_pass_and_read_about_one():
    passed, text, _ = speed_gate(_rounds(1), _rounds(2))
    assert passed, text
    assert 0.95 < relative_speed(_rounds(1), _rounds(2)).effect < 1.05


def test_an_in_session_slowdown_fails_the_gate():
    bare = _rounds(1)
    passed, text, _ = speed_gate(bare, bare / 0.56 * _rounds(3) / 2.0)
    assert not passed
    assert "the whole interval lies below 0.9x" in text and "over 12 interleaved rounds" in text


def test_a_slowdown_just_past_the_target_fails_when_the_rounds_resolve_it():
    bare = _rounds(1)
    assert not speed_gate(bare, bare / (MIN_RELATIVE_SPEED - 0.1))[0]


def test_slow_episodes_both_trainers_meet_do_not_fail_it():
    episode = slice(3, 7)
    passed, text, _ = speed_gate(_rounds(1, episode), _rounds(2, episode))
    assert passed, text
