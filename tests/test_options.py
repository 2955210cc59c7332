"""The one option set: its parser, its defaults, its pairing policy, and the README's table generated from it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from jointaug_plugins import JointOptions, JointSpec, UnknownOptionError, UnsupportedOptionError
from jointaug_plugins.options import DEFAULTS, OPTION_DOCS, option_keys, options_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_are_the_one_policy():
    options = JointOptions.parse()
    assert options.specs == {"crop": JointSpec(beta=0.0), "blur": None, "color": None}
    assert options.switched_on == ("crop",)
    assert (options.pairs, options.multicrop, options.crop_or_blur, options.seed, options.reproducible) == (
        None, None, None, None, False
    )  # fmt: skip
    assert set(DEFAULTS) == set(OPTION_DOCS) == set(option_keys())


def test_parse_is_identity_on_parsed_options_and_keywords_override_a_mapping():
    parsed = JointOptions.parse({"crop": -1.0, "seed": 3})
    assert JointOptions.parse(parsed) is parsed
    assert JointOptions.parse(parsed, seed=4).seed == 4
    assert JointOptions.parse({"crop": 1.0}, crop=None).specs["crop"] is None
    assert parsed.replace(blur=0.0).switched_on == ("crop", "blur")


@pytest.mark.parametrize(
    ("key", "hint"),
    [("blurr", "'blur'"), ("colour", "'color'"), ("seeds", "'seed'"), ("multi_crop", "'multicrop'"), ("zzz", None)],
)
def test_unknown_key_names_it_the_closest_key_and_all_keys(key, hint):
    with pytest.raises(UnknownOptionError) as err:
        JointOptions.parse({key: 0.0})
    message = str(err.value)
    assert message.startswith(f"unknown joint option {key!r}")
    assert (f"(did you mean {hint}?)" in message) == (hint is not None)
    assert message.endswith("valid options: " + ", ".join(option_keys()))
    # A TypeError like a misspelled keyword and a ValueError like a misspelled config key.
    assert isinstance(err.value, TypeError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("options", "error", "pattern"),
    [
        ({"seed": -1}, ValueError, "seed must be an int >= 0"),
        ({"seed": 1.5}, ValueError, "seed must be an int >= 0"),
        ({"reproducible": "yes"}, TypeError, "reproducible must be True or False"),
        ({"reproducible": True}, ValueError, "reproducible=True needs seed="),
        ({"multicrop": "locals"}, ValueError, "multicrop must be one of 'global', 'local', 'both'"),
        ({"pairs": [(0, 1)], "multicrop": "both"}, ValueError, "pairs and multicrop"),
        ({"pairs": [(0, 1, 2)]}, ValueError, r"\(i, j\) view-index pairs"),
        ({"crop_or_blur": 0.5}, ValueError, "crop_or_blur needs both crop and blur"),
        ({"crop_or_blur": 1.5, "blur": 0.0}, ValueError, r"probability in \[0, 1\]"),
        ({"crop": "inf"}, TypeError, "preset name"),
        ({"blur": {"bta": 0.0}}, ValueError, r"blur has unknown option\(s\) bta \(did you mean 'beta'\?\)"),
    ],
)
def test_bad_values_name_the_key_and_the_accepted_values(options, error, pattern):
    with pytest.raises(error, match=pattern):
        JointOptions.parse(options)


def test_pairs_follow_the_one_policy_for_every_layout():
    default = JointOptions.parse()
    assert default.pairs_for([2]) == [(0, 1)]
    assert default.pairs_for([1, 1]) == [(0, 1)]  # BYOL's two pipelines: not multi-crop
    assert default.pairs_for([2, 6]) == [(0, 1)]  # multi-crop: the global pair only, by default
    assert default.pairs_for([4]) == [(0, 1), (2, 3)]
    assert JointOptions.parse(multicrop="both").pairs_for([2, 5]) == [(0, 1), (2, 3), (4, 5)]
    assert JointOptions.parse(multicrop="local").pairs_for([2, 4]) == [(2, 3), (4, 5)]
    assert JointOptions.parse(pairs=[(1, 2)]).pairs_for([2, 6]) == [(1, 2)]
    with pytest.raises(ValueError, match=r"multicrop='local' needs a multi-crop layout.*\[2\]"):
        JointOptions.parse(multicrop="local").pairs_for([2])


def test_a_door_refuses_what_it_cannot_honour_with_the_reason():
    options = JointOptions.parse(seed=0, reproducible=True)
    for door in ("solo-learn", "DALI", "JointResizedCropBatch"):
        with pytest.raises(UnsupportedOptionError, match=rf"^{door} cannot honour reproducible=True: .*ind(ex|ices)"):
            options.check_door(door)
    assert options.check_door("JointViews") is options


def test_switch_without_effect_is_refused():
    with pytest.raises(ValueError, match="switch nothing on"):
        JointOptions.parse(crop=None).require_effect()
    JointOptions.parse(crop=None, blur=0.0).require_effect()


def test_describe_names_what_is_on():
    assert JointOptions.parse().describe() == "crop β=0"
    text = JointOptions.parse(crop=None, blur=-1.0, multicrop="both", seed=2).describe()
    assert text == "blur β=-1, multicrop=both, seed=2"


def test_the_docs_option_reference_is_generated_from_the_parser(tmp_path):
    """The options page includes the table that docs/generate.py writes from the one option set at build time."""
    import sys

    from readme_blocks import ROOT, page

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from generate import write_tables
    finally:
        sys.path.remove(str(ROOT / "docs"))
    write_tables(tmp_path)
    assert (tmp_path / "options_table.md").read_text() == options_table() + "\n"
    for key in DEFAULTS:
        assert f"| `{key}` |" in options_table()
    assert ":::{include} generated/options_table.md" in page("options"), "the options page lost its generated table"


def test_a_view_the_policy_means_to_pair_but_left_unpaired_warns_from_the_core():
    from jointaug_plugins import JointRandomResizedCrop, JointViews

    assert JointOptions.parse().meant_to_pair([2, 6]) == [0, 1]
    assert JointOptions.parse(multicrop="local").meant_to_pair([2, 3]) == [2, 3, 4]
    assert JointOptions.parse().meant_to_pair([3]) == [0, 1, 2]
    assert JointOptions.parse(pairs=[(0, 1)]).meant_to_pair([3]) == []
    views = [JointRandomResizedCrop(8)] * 5
    with pytest.warns(UserWarning, match=r"view\(s\) \[2\] of 5 are in no pair"):
        JointViews(views, layout=[3, 2])  # an odd global count: the third global is independent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        JointViews(views[:4], layout=[2, 2])  # locals independent on purpose under multicrop="global"
