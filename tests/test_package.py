import re

import govsig


def test_version_is_semver():
    assert re.fullmatch(r"\d+\.\d+\.\d+", govsig.__version__)


def test_cli_version(capsys):
    from govsig.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == govsig.__version__
