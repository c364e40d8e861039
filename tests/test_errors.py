"""A user's mistake ends with one line naming the file or value and the problem; a fault of the code keeps its
traceback (custom_networks.errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_networks.errors import (
    DEBUG_VARIABLE,
    BadValueError,
    MissingFileError,
    error_line,
    errors_in_one_line,
    user_error,
)


def _wrapped(error: BaseException) -> RuntimeError:
    """``error`` wrapped twice, as MONAI wraps what a config expression raises."""
    try:
        try:
            raise error
        except Exception as inner:
            raise RuntimeError("Failed to evaluate ConfigExpression: $...") from inner
    except RuntimeError as outer:
        try:
            raise RuntimeError("Failed to instantiate") from outer
        except RuntimeError as wrapped:
            return wrapped


def test_the_users_mistake_is_found_behind_monais_wrapping():
    mistake = MissingFileError("/data/datalist.json: not found")
    assert user_error(_wrapped(mistake)) is mistake
    assert error_line(mistake) == "error: /data/datalist.json: not found"


def test_a_system_error_of_a_file_names_the_file(tmp_path: Path):
    with pytest.raises(FileNotFoundError) as caught:
        open(tmp_path / "absent.csv", encoding="utf-8")
    found = user_error(_wrapped(caught.value))
    assert found is caught.value
    assert error_line(found) == f"error: {tmp_path / 'absent.csv'}: No such file or directory"


def test_a_users_mistake_wins_over_the_system_error_it_was_raised_from(tmp_path: Path):
    try:
        try:
            open(tmp_path / "absent", encoding="utf-8")
        except OSError as system:
            raise BadValueError("report: no comparison here") from system
    except BadValueError as mistake:
        assert user_error(mistake) is mistake


def test_a_fault_of_the_code_is_not_a_users_mistake():
    assert user_error(_wrapped(KeyError("network_def"))) is None
    assert user_error(_wrapped(ValueError("shapes do not match"))) is None


def test_messages_are_one_line():
    assert error_line(BadValueError("a\n  b\tc")) == "error: a b c"


def test_errors_in_one_line_exits_1_with_the_line(capsys):
    with pytest.raises(SystemExit) as caught, errors_in_one_line():
        raise _wrapped(BadValueError("--folds: fold 7 is not in the datalist"))
    assert caught.value.code == 1
    assert capsys.readouterr().err == "error: --folds: fold 7 is not in the datalist\n"


def test_errors_in_one_line_keeps_the_traceback_of_a_fault():
    with pytest.raises(RuntimeError, match="Failed to instantiate"), errors_in_one_line():
        raise _wrapped(KeyError("network_def"))


def test_the_debug_variable_keeps_every_traceback(monkeypatch):
    monkeypatch.setenv(DEBUG_VARIABLE, "1")
    with pytest.raises(RuntimeError, match="Failed to instantiate"), errors_in_one_line():
        raise _wrapped(BadValueError("--folds: fold 7 is not in the datalist"))
