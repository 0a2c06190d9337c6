"""What a person does on the interactive live view, applied to the session's page.

The view sends each mouse and keyboard action as a small JSON message. A point is sent as
fractions of the picture (0 to 1 across and down), so it lands where the person pointed whatever
the size of their window; it is scaled here to the viewport the picture shows. Keys go through
Playwright's keyboard (a key with its modifiers, as the page would get it from a keyboard); text
that is no key (a paste, a character the keyboard layout lacks, an input method's result) is
inserted as typed text.

Nothing here is logged or recorded: what a person types (a password) stays between them and the
page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Literal

from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..browser.session import BrowserSession

log = logging.getLogger("smooth_agents.local.live")

Modifier = Literal["Alt", "Control", "Meta", "Shift"]
MODIFIER_KEYS = frozenset({"Alt", "Control", "Meta", "Shift", "AltGraph", "CapsLock"})
MAX_TEXT = 10_000
MAX_WHEEL = 10_000.0


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MouseInput(_Message):
    type: Literal["mouse"]
    action: Literal["move", "down", "up", "click", "dblclick", "wheel"]
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    button: Literal["left", "middle", "right"] = "left"
    clicks: int = Field(default=1, ge=1, le=3)
    dx: float = Field(default=0, ge=-MAX_WHEEL, le=MAX_WHEEL)
    dy: float = Field(default=0, ge=-MAX_WHEEL, le=MAX_WHEEL)
    modifiers: tuple[Modifier, ...] = ()


class KeyInput(_Message):
    type: Literal["key"]
    key: str = Field(min_length=1, max_length=32)
    modifiers: tuple[Modifier, ...] = ()


class TextInput(_Message):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)


PersonInput = Annotated[MouseInput | KeyInput | TextInput, Field(discriminator="type")]
INPUT_TYPES = frozenset({"mouse", "key", "text"})
_PARSER: TypeAdapter[MouseInput | KeyInput | TextInput] = TypeAdapter(PersonInput)


def parse_input(message: object) -> MouseInput | KeyInput | TextInput | None:
    """The input a message carries; None when it is no valid input message."""
    try:
        return _PARSER.validate_python(message)
    except ValidationError:
        return None


class PageHands:
    """Applies a person's input to the session's page (whichever it is at the time)."""

    def __init__(self, browser: BrowserSession, viewport: Callable[[], tuple[float, float]]) -> None:
        self.browser = browser
        self._viewport = viewport
        self._held: set[Literal["left", "middle", "right"]] = set()

    async def apply(self, given: MouseInput | KeyInput | TextInput) -> None:
        try:
            if isinstance(given, MouseInput):
                await self._mouse(given)
            elif isinstance(given, KeyInput):
                await self._key(given)
            else:
                await self.browser.page.keyboard.insert_text(given.text)
        except PlaywrightError as exc:  # the page navigating or closing under the input
            log.debug("live view input not applied: %s", str(exc).splitlines()[0] if str(exc) else exc)

    async def release(self) -> None:
        """Let go of the mouse buttons still held (the person left mid-drag)."""
        held, self._held = self._held, set()
        for button in held:
            try:
                await self.browser.page.mouse.up(button=button)
            except PlaywrightError:
                return

    async def _mouse(self, given: MouseInput) -> None:
        page = self.browser.page
        width, height = self._viewport()
        x, y = given.x * width, given.y * height
        await self._press_modifiers(given.modifiers)
        try:
            if given.action == "click":
                await page.mouse.click(x, y, button=given.button, click_count=given.clicks)
            elif given.action == "dblclick":
                await page.mouse.dblclick(x, y, button=given.button)
            else:
                await page.mouse.move(x, y)
                if given.action == "down":
                    self._held.add(given.button)
                    await page.mouse.down(button=given.button, click_count=given.clicks)
                elif given.action == "up":
                    self._held.discard(given.button)
                    await page.mouse.up(button=given.button, click_count=given.clicks)
                elif given.action == "wheel":
                    await page.mouse.wheel(given.dx, given.dy)
        finally:
            await self._release_modifiers(given.modifiers)

    async def _key(self, given: KeyInput) -> None:
        if given.key in MODIFIER_KEYS:
            return  # a modifier alone does nothing; it comes with the key it modifies
        keyboard = self.browser.page.keyboard
        await self._press_modifiers(given.modifiers)
        try:
            await keyboard.press(given.key)
        except PlaywrightError as exc:
            if "Unknown key" not in str(exc):
                raise
            # A character the keyboard layout lacks (é, 東): typed as text, unless it was meant as
            # a shortcut; a key name the layout lacks (a media key) does nothing.
            if len(given.key) == 1 and not {"Control", "Meta", "Alt"} & set(given.modifiers):
                await keyboard.insert_text(given.key)
        finally:
            await self._release_modifiers(given.modifiers)

    async def _press_modifiers(self, modifiers: tuple[Modifier, ...]) -> None:
        for modifier in modifiers:
            await self.browser.page.keyboard.down(modifier)

    async def _release_modifiers(self, modifiers: tuple[Modifier, ...]) -> None:
        for modifier in reversed(modifiers):
            await self.browser.page.keyboard.up(modifier)
