"""What a command can fail with; main turns each into one line on stderr and an exit code.

CliError           exit 1: the command could not be done (the message says why and what to do)
 └── ApiError      the API answered with an error or could not be reached (cli/client.py)
UsageError         exit 2: the command line asks for something that cannot be done as written
"""

from __future__ import annotations


class CliError(Exception):
    """The command could not be done; exit code 1."""


class UsageError(Exception):
    """The command line is wrong; exit code 2."""
