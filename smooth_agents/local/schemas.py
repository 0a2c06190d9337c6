"""Request bodies of the Smooth API, validated the way the service does (422 on bad shapes).

Unknown fields are accepted and ignored: the official SDKs send fields newer or older than the
published document (``use_stealth``, ``use_captcha_solver``, ``session_id``).
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..protocol import Device
from .errors import ValidationFailed

# The documented additional tools and the options each takes (name -> type).
ADDITIONAL_TOOLS: dict[str, dict[str, type]] = {
    "screenshot": {"full_page": bool},
    "hover": {},
    "print_page": {},
    "drag_drop": {},
}
MAX_METADATA_KEYS = 16
MAX_METADATA_VALUE = 2048
M = TypeVar("M", bound=BaseModel)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ToolSignature(_Lenient):
    name: str = Field(min_length=1, max_length=128)
    description: str
    inputs: dict[str, Any]
    output: str

    @property
    def input_schema(self) -> dict[str, Any]:
        """``inputs`` as a JSON schema of an object. Callers send it in one of two shapes: a JSON
        schema (the official SDK) or, as the API's pages show, a map from each parameter's name to
        its ``type`` and ``description``; the second is wrapped (every parameter required, as the
        pages give no way to say otherwise)."""
        inputs = self.inputs
        declared = inputs.get("properties")
        is_schema = isinstance(inputs.get("type"), str) or (
            isinstance(declared, dict) and not isinstance(declared.get("type"), str)
        )
        if is_schema:
            return {"type": "object", **inputs}
        wrapped: dict[str, Any] = {"type": "object", "properties": dict(inputs)}
        return {**wrapped, "required": list(inputs)} if inputs else wrapped


class Certificate(_Lenient):
    file: str
    password: str | None = None


class TaskRequest(_Lenient):
    task: str | None = None
    response_model: dict[str, Any] | None = None
    url: str | None = None
    metadata: dict[str, str | int | float | bool] | None = None
    files: list[str] | None = None
    agent: Literal["smooth", "smooth-lite"] = "smooth"
    max_steps: int = Field(default=32, ge=2, le=128)
    device: Device = "desktop"
    allowed_urls: list[str] | None = None
    enable_recording: bool = True
    profile_id: str | None = None
    # Deprecated name of profile_id; the official SDK still sends both.
    session_id: str | None = None
    profile_read_only: bool = False
    stealth_mode: bool = False
    proxy_server: str | None = None
    proxy_username: str | None = Field(default=None, repr=False)
    proxy_password: str | None = Field(default=None, repr=False)
    certificates: list[Certificate] | None = None
    use_adblock: bool | None = True
    additional_tools: dict[str, dict[str, Any] | None] | None = None
    custom_tools: list[ToolSignature] | None = None
    experimental_features: dict[str, Any] | None = None
    extensions: list[str] | None = None
    show_cursor: bool = False

    @field_validator("metadata")
    @classmethod
    def _metadata_limits(
        cls, value: dict[str, str | int | float | bool] | None
    ) -> dict[str, str | int | float | bool] | None:
        if value is None:
            return None
        if len(value) > MAX_METADATA_KEYS:
            raise ValueError(f"metadata has {len(value)} keys; at most {MAX_METADATA_KEYS} are allowed")
        for key, item in value.items():
            if isinstance(item, str) and len(item) > MAX_METADATA_VALUE:
                raise ValueError(f"metadata[{key!r}] is longer than {MAX_METADATA_VALUE} characters")
        return value

    @field_validator("additional_tools")
    @classmethod
    def _known_tools(
        cls, value: dict[str, dict[str, Any] | None] | None
    ) -> dict[str, dict[str, Any] | None] | None:
        for name, options in (value or {}).items():
            known = ADDITIONAL_TOOLS.get(name)
            if known is None:
                raise ValueError(
                    f"unknown additional tool {name!r}; the tools are {', '.join(sorted(ADDITIONAL_TOOLS))}"
                )
            for option, given in (options or {}).items():
                kind = known.get(option)
                if kind is None:
                    allowed = ", ".join(known) or "none"
                    raise ValueError(
                        f"additional tool {name!r} has no option {option!r} (options: {allowed})"
                    )
                if not isinstance(given, kind):
                    raise ValueError(f"additional tool {name!r}: {option!r} must be a {kind.__name__}")
        return value

    @property
    def effective_profile_id(self) -> str | None:
        return self.profile_id or self.session_id


class EventRequest(_Lenient):
    name: str
    payload: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, max_length=128)


class GotoInput(_Lenient):
    url: str = Field(min_length=1)


class ExtractInput(_Lenient):
    # Named ``schema`` on the wire; pydantic reserves that attribute name.
    schema_: dict[str, Any] = Field(alias="schema")
    prompt: str | None = None


class EvaluateJsInput(_Lenient):
    js: str = Field(min_length=1)
    args: Any = None


class RunTaskInput(_Lenient):
    task: str = Field(min_length=1)
    max_steps: int = Field(default=32, ge=2, le=128)
    response_model: dict[str, Any] | None = None
    url: str | None = None
    metadata: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = Field(default=None, repr=False)


class HandOverInput(_Lenient):
    # What the person is asked to do (shown above the page in the live view).
    message: str = Field(default="", max_length=2000)
    # Seconds to wait for the person to hand the browser back.
    timeout: float = Field(default=600.0, gt=0, le=86_400)


class ToolAnswer(_Lenient):
    code: int
    output: Any = None


class ProfileRequest(_Lenient):
    id: str | None = None


class BrowserSessionRequest(_Lenient):
    profile_id: str | None = None
    live_view: bool = True
    device: Literal["desktop", "mobile"] | None = "desktop"
    url: str | None = None
    proxy_server: str | None = None
    proxy_username: str | None = Field(default=None, repr=False)
    proxy_password: str | None = Field(default=None, repr=False)
    extensions: list[str] | None = None


def parse_body(model: type[M], body: Any) -> M:
    """Validate a request body; shape errors become a 422 with the field locations."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(
            [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        ) from None
