"""Service URLs as the chaos run shows and saves them: without their passwords."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.engine import make_url

__all__ = ["HIDDEN", "hide_password", "is_hidden"]

HIDDEN = "***"  # what stands for a password; SQLAlchemy's own mark


def hide_password(url: str) -> str:
    """``url`` with its password, if it has one, replaced by :data:`HIDDEN`.

    >>> hide_password("redis://:s3cret@10.0.0.5:6379/0")
    'redis://:***@10.0.0.5:6379/0'
    >>> hide_password("postgresql+asyncpg://app:s3cret@db/ledger")
    'postgresql+asyncpg://app:***@db/ledger'
    """
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss", "unix"):
        netloc, query = parts.netloc, parts.query
        arguments = parse_qsl(query, keep_blank_values=True)
        if any(k == "password" for k, _ in arguments):  # redis-py takes it there too
            query = urlencode(
                [(k, HIDDEN if k == "password" else v) for k, v in arguments], safe="*"
            )
        if parts.password is not None:
            netloc = f"{parts.username or ''}:{HIDDEN}@{netloc.rpartition('@')[2]}"
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    if parts.password is None:
        return url
    return make_url(url).render_as_string(hide_password=True)


def is_hidden(url: str) -> bool:
    """Whether ``url`` is one :func:`hide_password` took a password out of."""
    return urlsplit(url).password == HIDDEN
