"""smooth_file_upload: a file of this machine, for tasks to use (offered over stdio only)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ..errors import ToolFailure
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput


class FileUploadInput(ToolInput):
    path: str = Field(
        min_length=1, description="Path of the file on this machine, inside the allowed folders."
    )
    purpose: str = Field(default="", max_length=64, description="Optional note on what the file is for.")


class FileUploadOutput(ToolOutput):
    file_id: str = Field(
        description="Pass it in `files` of smooth_browse or smooth_session_open to give the browser the file."
    )
    name: str
    size: int


def resolve_allowed(path: str, roots: tuple[str, ...]) -> Path:
    """The file's real path, if it lies inside one of the roots (symlinks resolved first)."""
    if not roots:
        raise ToolFailure(
            "File upload is turned off: start the server with --file-root FOLDER (or SMOOTH_MCP_FILE_ROOTS) "
            "to allow files from that folder."
        )
    target = Path(path).expanduser().resolve()
    allowed = [Path(root).expanduser().resolve() for root in roots]
    if not any(target == root or root in target.parents for root in allowed):
        raise ToolFailure(f"{path} is outside the allowed folders: {', '.join(str(r) for r in allowed)}.")
    if not target.is_file():
        raise ToolFailure(f"{path} is not a file.")
    return target


async def file_upload(context: ToolContext, args: FileUploadInput) -> FileUploadOutput:
    target = resolve_allowed(args.path, context.settings.file_roots)
    uploaded = await context.client.upload_file(target, purpose=args.purpose or None)
    return FileUploadOutput(file_id=uploaded.id, name=target.name, size=target.stat().st_size)


FILE_UPLOAD = ToolDefinition(
    name="smooth_file_upload",
    title="Upload a local file",
    description=(
        "Upload a file from this machine so the browser can use it (e.g. to attach to a form): pass "
        "the returned file_id in `files` of smooth_browse or smooth_session_open. Only files inside "
        "the folders this server was allowed to read can be sent."
    ),
    input_model=FileUploadInput,
    output_model=FileUploadOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=False),
    run=file_upload,
    lead=lambda r: f"Uploaded {r.name} ({r.size} bytes) as {r.file_id}.",
    local_only=True,
)
