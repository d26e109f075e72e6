"""Errors a file reader raises; free of Django so that readers can be used on their own."""


class UnreadableFile(Exception):
    """A reader's word that the file cannot be read as the format it should be in."""
