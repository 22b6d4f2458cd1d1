"""Opening the database, applying migrations, and handing out sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# How long an SQLite statement waits for another writer's lock before "database is locked".
BUSY_TIMEOUT_SECONDS = 10.0


def _sqlite_pragmas(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        # WAL lets the web app read while the daemon writes; foreign keys are off by default.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def is_transient(exc: BaseException) -> bool:
    """Whether a store error is the database's passing state (locked, busy, connection lost)
    rather than something wrong with the data: the same transaction may succeed if retried."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)
    return False


def database_error(exc: BaseException) -> str | None:
    """The database's own one-line reason for a failed statement or connection, or None when
    ``exc`` is not a database error: lets the parts above the store report a full disk or a
    lost server in one line without knowing which library raised it."""
    if not isinstance(exc, DBAPIError):
        return None
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (absolute), or None for other stores and :memory:.

    The CLI checks the file exists before opening, so a typo never creates an empty database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().resolve()


def without_nul(value: str) -> str:
    """The text as PostgreSQL can hold it: U+0000 becomes U+FFFD (same length, same offsets)."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _scrub(params: Any) -> Any:
    if isinstance(params, str):
        return without_nul(params)
    if isinstance(params, dict):
        return {k: _scrub(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params, list | tuple):
        return type(params)(_scrub(v) for v in params)
    return params


def _pg_no_nul(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    # PostgreSQL text cannot hold U+0000 (SQLite can): a post carrying one would fail to store
    # on every cycle. Replacing it keeps the text's length, so finding spans stay valid.
    return statement, _scrub(parameters)


class Store:
    """The one handle on the database.

    SQLite stores are migrated automatically on first use so the embedded default needs no
    set-up step; other databases are migrated explicitly with ``socialguide db upgrade``.
    """

    def __init__(self, url: str, *, auto_upgrade: bool | None = None, echo: bool = False,
                 busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError(f"[store] url is not a database URL: {_redact(url)!r}") from None
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except Exception as exc:  # driver missing, bad options
            raise StoreError(f"cannot open store {_redact(url)}: {exc}") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas(busy_timeout))
        elif self.dialect == "postgresql":
            event.listen(self.engine, "before_cursor_execute", _pg_no_nul, retval=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if auto_upgrade is None:
            auto_upgrade = self.dialect == "sqlite"
        if auto_upgrade:
            self.upgrade()

    @property
    def redacted_url(self) -> str:
        return _redact(self.url)

    def upgrade(self, revision: str = "heads") -> None:
        """Apply every pending Alembic migration."""
        try:
            with self.engine.begin() as conn:
                cfg = _alembic_config(self.url)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        except OperationalError as exc:
            raise StoreError(f"cannot migrate {self.redacted_url}: {exc.orig}") from None

    def current_revisions(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())

    def head_revisions(self) -> set[str]:
        return set(ScriptDirectory.from_config(_alembic_config(self.url)).get_heads())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except DBAPIError as exc:
            s.rollback()
            if _missing_table(exc):
                # Only SQLite migrates itself; say what to run instead of a stack trace.
                raise StoreError(
                    f"{self.redacted_url} has no socialguide tables (or an old schema): "
                    f"run `socialguide db upgrade` first ({str(exc.orig).splitlines()[0]})"
                ) from exc
            raise
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _missing_table(exc: DBAPIError) -> bool:
    """Whether the database said a table (or column) is not there: a schema not migrated."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in ("42P01", "42703"):  # undefined_table, undefined_column
        return True
    return "no such table" in str(exc.orig)


def _redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"
