"""Errors a user can cause. The CLI and pytest turn them into one line and an exit code, never a traceback."""


class PrunebenchError(Exception):
    """Bad input: a file, directory or value the user gave. Exit code 1."""

    exit_code = 1


class UsageError(PrunebenchError):
    """A command-line value that is out of range or malformed. Exit code 2, like argparse."""

    exit_code = 2


class DataError(PrunebenchError):
    """An input file (IDX, checkpoint, results JSON) that is missing, corrupt or of the wrong kind."""
