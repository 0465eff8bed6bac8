"""experiments/_acquisition_states.py: the acquisition experiments' shared command line."""

from __future__ import annotations

import pytest

from tests.experiments import load_script


@pytest.mark.parametrize("script", ["acquisition_polish", "acquisition_boundary"])
@pytest.mark.parametrize("argv", [["--asks", "0"], ["--dims", "0"], ["--seeds", "-1"]])
def test_bad_counts_are_refused(script: str, argv: list[str],
                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        load_script(script).main(argv)
    assert argv[0] in capsys.readouterr().err  # the error names the flag
