"""Browser profiles: named cookie jars (logins) that sessions and tasks can reuse."""

from __future__ import annotations

from pydantic import Field

from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput


class ProfileCreateInput(ToolInput):
    profile_id: str = Field(default="", description="Optional id to give the profile; empty: one is made up.")


class ProfileOutput(ToolOutput):
    profile_id: str


async def profile_create(context: ToolContext, args: ProfileCreateInput) -> ProfileOutput:
    profile = await context.client.create_profile(args.profile_id or None)
    return ProfileOutput(profile_id=profile.id)


PROFILE_CREATE = ToolDefinition(
    name="smooth_profile_create",
    title="Create a browser profile",
    description=(
        "Create a browser profile: it keeps cookies and logins between sessions. Pass its profile_id to "
        "smooth_session_open or smooth_browse; log in once in a session opened with it (e.g. with "
        "smooth_session_run_task) and later sessions start logged in."
    ),
    input_model=ProfileCreateInput,
    output_model=ProfileOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=False),
    run=profile_create,
    lead=lambda r: f"Profile {r.profile_id} created.",
)


class ProfileListInput(ToolInput):
    pass


class ProfileListOutput(ToolOutput):
    profile_ids: list[str]


async def profile_list(context: ToolContext, args: ProfileListInput) -> ProfileListOutput:
    return ProfileListOutput(profile_ids=[p.id for p in await context.client.list_profiles()])


PROFILE_LIST = ToolDefinition(
    name="smooth_profile_list",
    title="List browser profiles",
    description="List the saved browser profiles (ids to pass as profile_id).",
    input_model=ProfileListInput,
    output_model=ProfileListOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=profile_list,
    lead=lambda r: f"{len(r.profile_ids)} profile(s):",
)


class ProfileDeleteInput(ToolInput):
    profile_id: str = Field(min_length=1, description="The profile to delete, with its cookies and logins.")


class ProfileDeleteOutput(ToolOutput):
    profile_id: str
    deleted: bool


async def profile_delete(context: ToolContext, args: ProfileDeleteInput) -> ProfileDeleteOutput:
    await context.client.delete_profile(args.profile_id)
    return ProfileDeleteOutput(profile_id=args.profile_id, deleted=True)


PROFILE_DELETE = ToolDefinition(
    name="smooth_profile_delete",
    title="Delete a browser profile",
    description="Delete a browser profile and the cookies and logins it holds. This cannot be undone.",
    input_model=ProfileDeleteInput,
    output_model=ProfileDeleteOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=False),
    run=profile_delete,
    lead=lambda r: f"Profile {r.profile_id} deleted.",
)
