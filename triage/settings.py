"""One settings object, read from ``TRIAGE_*`` environment variables and an optional TOML file.

The TOML file is named by ``TRIAGE_CONFIG`` (default ``triage.toml`` in the working
directory, used only if present).  Environment variables win over the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Every knob of the service, each with its default and what it changes."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="forbid")

    database_url: str = Field(
        "sqlite:///triage.db",
        description="SQLAlchemy URL of the message store. Default: a SQLite file "
        "triage.db in the working directory; use postgresql+psycopg://... for several workers.",
    )
    max_message_bytes: int = Field(
        50 * 1024 * 1024,
        description="Largest raw message accepted (bytes); a larger one is refused with an error.",
    )
    max_headers: int = Field(
        1000, description="Header lines read per message part; later ones are ignored with a warning."
    )
    max_mime_parts: int = Field(
        100,
        description="Multipart and message/rfc822 containers read per message (bounds nesting); "
        "the rest of the message is dropped with a warning.",
    )
    max_text_chars: int = Field(
        1_000_000, description="Characters of body text kept per message; the rest is dropped with a warning."
    )

    models_dir: Path = Field(
        Path("models"),
        description="Where trained models live (one folder per version, ACTIVE names the one in use). "
        "Rebuilt by `triage train`; never committed.",
    )
    corpus_dir: Path = Field(
        Path("fixtures/corpus"), description="The labeled corpus `triage train` uses when no --data is given."
    )
    languages: tuple[str, ...] = Field(
        ("en", "ru", "es", "de", "fr", "it", "pt", "zh"),
        description="Languages the detector may answer (ISO 639-1); others are reported as the closest of these.",
    )
    review_threshold: float = Field(
        0.5, description="Topic confidence below which a message is flagged needs_review for an agent."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("TRIAGE_CONFIG", "triage.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))
