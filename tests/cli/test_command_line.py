"""Opening the window parses its options without building every command's parser
(app.py: parse_command_line, a start-up saving); what it reads must be what the full
parser reads, and anything else still reaches the full parser."""

from __future__ import annotations

import pytest

from desktop.app import build_parser, parse_command_line


@pytest.mark.parametrize("words", [
    [], ["--demo"], ["--verbose"], ["--data-dir", "/tmp/x", "--server", "https://cme.example.org"],
    ["--data=/tmp/x"],  # an abbreviation, as argparse allows
])
def test_the_window_options_read_as_the_full_parser_reads_them(words):
    assert vars(parse_command_line(words)) == vars(build_parser().parse_args(words))


def test_a_command_is_parsed_by_the_full_parser():
    args = parse_command_line(["--data-dir", "/tmp/x", "status", "--json"])
    assert args.command is not None and args.json is True


@pytest.mark.parametrize("words", [["--help"], ["--data-dir"], ["--no-such-option"]])
def test_help_and_mistakes_are_answered_by_the_full_parser(words, capsys):
    with pytest.raises(SystemExit):
        parse_command_line(words)
    said = capsys.readouterr()
    assert "COMMAND" in said.out + said.err  # the full parser's usage, which lists the commands
