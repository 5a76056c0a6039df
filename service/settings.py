"""The one reader of the environment: ``Settings`` (prefix ``MIPGUIDE_``).

CLI flags override fields of the same object (``dataclasses.replace(settings, ...)``).
Settings is a frozen dataclass that reads ``MIPGUIDE_<FIELD>`` variables (any case) and checks
each value against its field's type and bounds: every cold CLI call reads the settings, and
importing pydantic (with pydantic-settings) would cost it 0.1 s.
"""

from __future__ import annotations

import importlib.util
import math
import os
import socket
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from mipguide.errors import InvalidOptionError
from mipguide.problem.compression import DecompressionLimits


def _shipped_models() -> Path:
    """The shipped weights, wherever the checkout or installation is (not the cwd): the
    ``weights`` folder of the ``mipguide.models`` package (found, not imported)."""
    spec = importlib.util.find_spec("mipguide.models")
    if spec is None or spec.origin is None:  # pragma: no cover - a broken installation
        raise ImportError("mipguide.models is not installed")
    return Path(spec.origin).resolve().parent / "weights"


SHIPPED_MODELS = _shipped_models()
ENV_PREFIX = "MIPGUIDE_"
# where jobs run (the ``executor`` setting)
EXECUTORS = ("local", "ray")
# whether guided jobs run their networks on the server's device pool (the ``device_pool`` setting)
DEVICE_POOL_MODES = ("auto", "on", "off")
_UNSET: Any = object()  # a field not given: read it from the environment, else its default
_TRUE, _FALSE = {"1", "true", "yes", "on", "t", "y"}, {"0", "false", "no", "off", "f", "n"}


def setting(default: Any, help: str = "", ge: float | None = None, gt: float | None = None) -> Any:
    """A Settings field: its default, what it means, and its bounds (``ge``, ``gt``)."""
    return field(default=_UNSET, metadata={"default": default, "help": help, "ge": ge, "gt": gt})


def _environment() -> dict[str, str]:
    """``MIPGUIDE_<FIELD>`` variables by field name (unknown names are ignored)."""
    return {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in os.environ.items()
        if key.upper().startswith(ENV_PREFIX)
    }


def _checked(f: Field[Any], value: Any) -> Any:
    """``value`` (maybe environment text) as the field's type, within its bounds.

    Raises:
        InvalidOptionError: not of the type, or out of bounds (names ``MIPGUIDE_<FIELD>``).
    """
    name = ENV_PREFIX + f.name.upper()
    kind = str(f.type)
    optional = kind.endswith("| None")
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise InvalidOptionError(name, "must be set")
    base = kind.removesuffix(" | None")
    try:
        if base == "bool":
            value = _boolean(value)
        elif base in ("int", "float"):
            if isinstance(value, bool):
                raise ValueError
            value = int(value) if base == "int" else float(value)
        elif base == "Path":
            value = Path(value)
        elif not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidOptionError(name, f"expected {base}, got {value!r}") from None
    if base == "float" and math.isnan(value):
        raise InvalidOptionError(name, "must be a number, not NaN")
    ge, gt = f.metadata["ge"], f.metadata["gt"]
    if ge is not None and value < ge:
        raise InvalidOptionError(name, f"must be at least {ge}, not {value}")
    if gt is not None and value <= gt:
        raise InvalidOptionError(name, f"must be more than {gt}, not {value}")
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError


def settings_json(settings: Settings) -> dict[str, Any]:
    """Every setting as a JSON value (paths as text)."""
    return {
        f.name: str(v) if isinstance(v := getattr(settings, f.name), Path) else v
        for f in fields(settings)
    }


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Runtime configuration. Every field can be set as ``MIPGUIDE_<FIELD>`` in the environment
    (any case); a keyword argument wins over the environment. Invalid values raise
    ``InvalidOptionError`` naming the variable. ``dataclasses.replace(settings, port=...)``
    makes a copy with overrides (the CLI's flags)."""

    data_dir: Path = setting(Path("var"), help="jobs, inputs, results and logs")
    default_solver: str = setting("scip")
    default_time_limit: float = setting(60.0)
    max_time_limit: float = setting(3600.0)
    threads: int = setting(1)
    device: str = setting("auto", help="torch device for tensor work: auto|cpu|cuda")
    gpu_memory_budget_mb: int = setting(
        2048, ge=16, help="device memory one pool worker's tiles may use"
    )
    gpu_max_batch: int = setting(64, ge=1, help="most requests coalesced per batch")
    gpu_coalesce_wait: float = setting(
        0.005, ge=0.0, help="seconds a worker waits for more requests to batch"
    )
    dmmv_max_entries: int = setting(
        20_000_000, ge=1, help="largest rows x columns of a DMMV job (413 beyond)"
    )
    dmmv_hybrid_max_nonzeros: int = setting(
        1_000_000,
        ge=0,
        help="DMMV jobs run the exact MILP beside the search by default when the MILP has at "
        "most this many nonzeros",
    )
    model_dir: Path = setting(SHIPPED_MODELS, help="registry root: NAME@VERSION directories")
    user_model_dir: Path | None = setting(
        None,
        help="the user's own models (mipguide train), searched before model_dir; "
        "None: <data_dir>/models",
    )

    # --- service (api/ and jobs/) ---
    host: str = setting("127.0.0.1")
    port: int = setting(8000)
    db_url: str | None = setting(
        None,
        help="SQLAlchemy URL or SQLite file; postgres(ql):// means psycopg 3; "
        "None: SQLite at <data_dir>/mipguide.db",
    )
    workers: int = setting(2, ge=1, help="solver workers (local processes, or Ray actors)")
    executor: str = setting("local", help="where jobs run: local (worker processes) | ray")
    ray_address: str = setting(
        "", help="executor=ray: the cluster (ray://host:port or host:port); empty: a local one"
    )
    ray_worker_cpus: float = setting(1.0, gt=0, help="executor=ray: CPUs one solver actor holds")
    device_pool: str = setting(
        "auto",
        help="guided jobs run their networks on one server-wide device pool: on | off | auto "
        "(on when the server, or with executor=ray the cluster, has a GPU)",
    )
    ray_device_gpus: float = setting(
        1.0, gt=0, help="executor=ray: GPUs (a share of one, or more) one device actor holds"
    )
    ray_device_cpus: float = setting(
        1.0, ge=0, help="executor=ray: CPUs one device actor holds (the CPU actor's threads)"
    )
    replica_id: str = setting(
        "", help="this API process's name among replicas on one database; empty: host:port"
    )
    lease_seconds: float = setting(
        30.0, gt=1, help="a running job's lease, renewed by its replica; re-queued once it ends"
    )
    api_keys: str = setting("", help="comma-separated API keys; empty: open local mode")
    metrics_token: str = setting("", help="bearer token for /metrics (besides the API keys)")
    api_docs: bool = setting(True, help="serve /docs, /redoc and /openapi.json")
    max_upload_bytes: int = setting(64 * 1024 * 1024, help="per request (413)")
    max_decompressed_bytes: int = setting(
        512 * 1024 * 1024, ge=1, help="largest decompressed model (413)"
    )
    max_decompression_ratio: float = setting(
        100.0, gt=1, help="largest decompressed/compressed size ratio (413)"
    )
    max_batch_jobs: int = setting(1000)
    max_running_per_key: int = setting(8, ge=1, help="running jobs per API key")
    max_queued_per_key: int = setting(10_000, ge=1, help="queued jobs per key (429)")
    allow_fake_solver: bool = setting(
        False, help="accept solver=fake (a scripted test backend) in jobs"
    )
    max_threads: int = setting(8, ge=1, help="largest threads option accepted")
    max_wait: float = setting(600.0, help="largest ?wait= in seconds")
    cancel_grace: float = setting(0.5, help="interrupt -> SIGTERM, seconds")
    kill_grace: float = setting(0.5, help="SIGTERM -> SIGKILL, seconds")
    watchdog_grace: float = setting(15.0, help="seconds past time_limit before kill")
    job_ttl: float = setting(7 * 86400.0, help="finished jobs are purged after")
    archive_per_key: int = setting(
        5000, ge=0, help="solutions of finished jobs kept per key to train on (oldest go first)"
    )
    archive_pool: int = setting(
        16,
        ge=0,
        help="besides its final solution, how many more of the solutions a job's backend found "
        "are kept to train on (SCIP's solution storage, HiGHS's improving solutions)",
    )
    archive_max_vars: int = setting(
        2_000_000, ge=1, help="a solved model with more variables is not kept to train on"
    )
    max_train_instances: int = setting(500, ge=2, help="most instances one training job takes")
    max_train_seconds: float = setting(
        3600.0, gt=0, help="longest training job (its time_limit is capped to this)"
    )
    retention_interval: float = setting(600.0, help="seconds between purges")

    # --- client side (client.py and the CLI) ---
    server_url: str = setting("http://127.0.0.1:8000")
    api_key: str | None = setting(None, help="key the client sends")

    def __post_init__(self) -> None:
        env = _environment()
        for f in fields(self):
            value = getattr(self, f.name)
            if value is _UNSET:
                value = env.get(f.name, f.metadata["default"])
            object.__setattr__(self, f.name, _checked(f, value))
        if self.executor not in EXECUTORS:
            raise InvalidOptionError("executor", f"unknown executor {self.executor!r}", EXECUTORS)
        if self.device_pool not in DEVICE_POOL_MODES:
            raise InvalidOptionError(
                "device_pool", f"unknown value {self.device_pool!r}", DEVICE_POOL_MODES
            )

    @property
    def replica(self) -> str:
        """This API process's name in the job store's leases (``replica_id``, else host:port)."""
        return self.replica_id or f"{socket.gethostname()}:{self.port}"

    @property
    def decompression_limits(self) -> DecompressionLimits:
        """How far an uploaded compressed model may expand."""
        return DecompressionLimits(
            max_bytes=self.max_decompressed_bytes, max_ratio=self.max_decompression_ratio
        )

    @property
    def model_dirs(self) -> tuple[Path, ...]:
        """The model registry's search path: the user's own models, then ``model_dir``."""
        return (self.user_model_dir or self.data_dir / "models", self.model_dir)

    @property
    def registry_path(self) -> str:
        """``model_dirs`` as one string (``os.pathsep``-joined), as worker processes get it."""
        return os.pathsep.join(str(d) for d in self.model_dirs)

    def own_model_dir(self, owner: str) -> Path:
        """Where the models an API key trains live (``owner`` is the key's hash; "" in open
        mode, whose models are the server's own registry)."""
        if not owner:
            return self.model_dirs[0]
        if not owner.isalnum():  # a key hash is hex: never a path of the caller's making
            raise ValueError("owner must be a key hash")
        return self.data_dir / "key-models" / owner

    def registry_for(self, owner: str) -> tuple[Path, ...]:
        """The registry one key sees: its own models, the server's, the shipped ones."""
        own = self.own_model_dir(owner)
        return tuple(dict.fromkeys((own, *self.model_dirs)))

    @property
    def api_key_list(self) -> list[str]:
        """The configured API keys (empty list: open local mode)."""
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def database_url(self) -> str:
        """The store's URL, defaulting to SQLite under the data directory."""
        if self.db_url:
            if "://" not in self.db_url:
                return f"sqlite:///{Path(self.db_url).resolve()}"
            scheme, rest = self.db_url.split("://", 1)
            if scheme in ("postgres", "postgresql"):  # the driver we ship (extra 'postgres')
                return f"postgresql+psycopg://{rest}"
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'mipguide.db').resolve()}"


def get_settings() -> Settings:
    """A fresh Settings read from the environment."""
    return Settings()
