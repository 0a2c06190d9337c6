"""The ``extract`` action: data shaped by a JSON schema from the page a browser shows.

The deterministic extraction (``extraction``: no model) first; when the server has a model and
required properties of the object asked for stayed empty, the model reads them from the page's
main content (``FillsMissing``, the model agent's side), each value checked against its schema.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import anyio

from ...reading.readable import page_to_markdown
from ..browser.session import BrowserSession
from ..errors import ActionFailed
from ..extraction import ExtractionError, InvalidSchemaError, check_schema, extract_structured

log = logging.getLogger("smooth_agents.local.extract")


async def extract_from_page(
    browser: BrowserSession, schema: Mapping[str, Any], prompt: str | None, *, served: bool = False
) -> Any:
    """The ``extract`` action: schema-guided data from the current page, without a model."""
    try:
        check_schema(schema)
    except InvalidSchemaError as exc:
        raise ActionFailed(str(exc)) from None
    if served:
        document = await browser.served_html()
        if document is None:
            raise ActionFailed("The page moved on and its document could not be read again.")
        html, url = document, browser.document_url or browser.url
    else:
        html, url = await browser.html(), browser.url
    try:
        return await anyio.to_thread.run_sync(
            lambda: extract_structured(html, schema, url=url, prompt=prompt)
        )
    except ExtractionError as exc:
        raise ActionFailed(str(exc)) from None


@runtime_checkable
class FillsMissing(Protocol):
    """An agent with a model that can also complete an extraction: given the page's main content
    and the properties the deterministic extraction left empty, it answers their values (only
    those; ``{}`` when the page does not say)."""

    async def fill_missing(
        self,
        schema: Mapping[str, Any],
        missing: Sequence[str],
        page_text: str,
        *,
        prompt: str | None,
        metadata: Mapping[str, Any],
    ) -> dict[str, Any]: ...


# Characters of a page's main content a model is shown to fill in an extraction.
FILL_TEXT_BUDGET = 30_000


async def extract_filling_gaps(
    browser: BrowserSession,
    schema: Mapping[str, Any],
    prompt: str | None,
    filler: object,
    metadata: Mapping[str, Any],
) -> Any:
    """The ``extract`` action: the deterministic extraction; then, when ``filler`` has a model and
    required properties of the object asked for stayed empty, those filled by the model from the
    page's main content (its values checked against their schemas). The result still has to match
    the whole schema; when it does not, the rules' own message says what was missing."""
    if not isinstance(filler, FillsMissing) or not missing_required(schema, {}):
        return await extract_from_page(browser, schema, prompt)
    refused: ActionFailed | None = None
    try:
        data = await extract_from_page(browser, schema, prompt)
    except ActionFailed as exc:  # required properties the page's markup does not give
        refused = exc
        try:
            data = await extract_from_page(browser, {**schema, "required": []}, prompt)
        except ActionFailed:
            raise exc from None
    missing = missing_required(schema, data)
    if not missing:
        return data
    html, url = await browser.html(), browser.url
    text = await anyio.to_thread.run_sync(lambda: page_to_markdown(html, url, main_content_only=True))
    try:
        filled = await filler.fill_missing(
            schema, missing, text[:FILL_TEXT_BUDGET], prompt=prompt, metadata=metadata
        )
    except Exception as exc:  # the provider's failure: the rules' result stands
        log.warning("the model could not fill %s: %s: %s", missing, type(exc).__name__, str(exc)[:200])
        filled = {}
    merged = {**data, **{name: value for name, value in filled.items() if name in missing}}
    still = missing_required(schema, merged)
    if still and refused is not None:
        raise ActionFailed(f"{refused} The model did not find {still} on the page either.") from None
    return merged


def missing_required(schema: Mapping[str, Any], data: Any) -> list[str]:
    """The required top-level properties ``data`` has no value for (absent, null, "", [] or {})."""
    if not isinstance(data, dict) or schema.get("type") not in (None, "object"):
        return []
    required = [name for name in schema.get("required") or () if isinstance(name, str)]
    return [name for name in required if data.get(name) in (None, "", [], {})]
