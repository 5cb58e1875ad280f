"""Conformance of every registered degradation: one test over the whole registry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sesqa.generator.degradations import REGISTRY, AppliedDegradation, SamplingContext
from sesqa.generator.degradations.base import strengthless_types
from sesqa.generator.degradations.pools import pool_members

from .helpers import SR

NAMES = sorted(REGISTRY)


def test_registry_holds_the_papers_37_with_their_weights():
    paper = [REGISTRY[n] for n in pool_members("paper")]
    assert len(paper) == 37
    assert sum(d.weight for d in paper) == pytest.approx(0.972, abs=1e-9)
    for name, deg in REGISTRY.items():
        mildest, most_severe = deg.strength_range
        assert mildest != most_severe or name == "reverse", name


@pytest.mark.parametrize("name", NAMES)
def test_a_degradation_without_strength_has_a_degenerate_range_and_vice_versa(name):
    deg = REGISTRY[name]
    assert isinstance(deg.has_strength, bool)
    mildest, most_severe = deg.strength_range
    assert deg.has_strength == (mildest != most_severe), f"{name}: has_strength {deg.has_strength}, strength_range {deg.strength_range}"


def test_strengthless_types_are_reverse_alone():
    assert strengthless_types() == ("reverse",)
    assert strengthless_types(pool_members("paper")) == ("reverse",)
    assert strengthless_types(pool_members("telephony")) == ()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_conformance(name, strength, speech, noise_source, talker_source):
    deg = REGISTRY[name]
    rng = np.random.default_rng(1234)
    ctx = SamplingContext(n_samples=len(speech), sr=SR, noise=noise_source, talkers=talker_source)
    params = deg.sample_params(rng, strength, ctx)
    step = AppliedDegradation(name, strength, params)

    y = step.apply(speech, SR)
    assert y.dtype == np.float32
    assert y.shape == speech.shape
    assert np.all(np.isfinite(y))
    assert not np.shares_memory(y, speech)

    again = step.apply(speech.copy(), SR)
    np.testing.assert_array_equal(y, again, err_msg=f"{name} is not deterministic for fixed params")

    replayed = AppliedDegradation.from_dict(json.loads(json.dumps(step.to_dict())))
    assert replayed == step
    np.testing.assert_array_equal(replayed.apply(speech, SR), y)


@pytest.mark.parametrize("name", NAMES)
def test_sampling_is_seeded(name, speech, noise_source, talker_source):
    deg = REGISTRY[name]
    ctx = SamplingContext(n_samples=len(speech), sr=SR, noise=noise_source, talkers=talker_source)
    a = deg.sample_params(np.random.default_rng(7), 0.3, ctx)
    b = deg.sample_params(np.random.default_rng(7), 0.3, ctx)
    assert a == b
