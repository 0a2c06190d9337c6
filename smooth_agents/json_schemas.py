"""JSON schemas as both ends check them: a schema is valid and its ``$ref``s resolve inside it; data
is checked against it without anything fetched.

A schema comes from whoever calls us (an MCP host, a LangChain agent, an HTTP client). Resolved the
way jsonschema resolves by default, its ``$ref`` would make this process fetch any URL it names (a
request forgery past ``allowed_urls``), and a reference that leads back to itself would recurse
until Python gives up. So every reference is looked up through one resolver that retrieves
nothing, and the references are checked once, when the schema is submitted: a remote, dangling or
endlessly looping one is bad input, named in the error.

Stands alone (imports nothing else of the package): the self-hosted server imports it, as it
imports ``protocol`` (tests/core/test_architecture.py). jsonschema and referencing are loaded on
first use: most programs never pass a raw schema.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.protocols import Validator
    from referencing import Registry, Resource, Specification
    from referencing._core import Resolver

# Deeper schemas are refused: no real one comes near, and checking one recurses per level.
MAX_SCHEMA_DEPTH = 64
# Longest chain of schemas (``$ref``, ``allOf`` and the like) one value may be checked through:
# each link is a level of recursion in the check, and no real schema comes near.
MAX_REFERENCE_CHAIN = 64

_REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
# Keywords whose schemas apply to the very value their holder applies to. A loop made of these and
# references never reaches deeper into the data, so checking a value against it never ends; a loop
# through ``properties`` or ``items`` (a tree whose nodes hold nodes) ends with the data.
_IN_PLACE_ONE = ("not", "if", "then", "else")
_IN_PLACE_LIST = ("allOf", "anyOf", "oneOf")
_IN_PLACE_MAP = ("dependentSchemas", "dependencies")


def json_schema_problem(schema: dict[str, Any]) -> tuple[str, str] | None:
    """Where a JSON schema is broken and why ("" for the top level), or None when it is valid.

    The one schema check of the project; callers word the error for their own audience."""
    import jsonschema

    if _depth(schema) > MAX_SCHEMA_DEPTH:
        return "", f"it is nested deeper than {MAX_SCHEMA_DEPTH} levels"
    if not isinstance(schema.get("$schema", ""), str):  # jsonschema fails on it with a TypeError
        return "$schema", "it must be the URI of a JSON Schema dialect"
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        return "/".join(str(p) for p in exc.absolute_path), exc.message
    return _reference_problem(schema)


def json_schema_mismatch(
    data: Any, schema: Mapping[str, Any], *, root: Mapping[str, Any] | None = None
) -> tuple[str, str] | None:
    """Where ``data`` departs from ``schema`` and why ("" for the top level), or None when it
    conforms. ``root``: the whole schema when ``schema`` is a part of it, for its ``$ref``s.

    The one check of data against a schema: references resolve inside the schema only."""
    import jsonschema.exceptions
    import referencing.exceptions

    validator = _validator(root if root is not None else schema)
    if root is not None:
        validator = validator.evolve(schema=schema)  # keeps the root's resolver
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    except referencing.exceptions.Unresolvable as exc:  # a schema nobody checked at submission
        return "", f"the schema's reference {exc.ref!r} does not resolve inside the schema"
    except RecursionError:
        # The schema's own loops are refused at submission; what remains is data nested so deep
        # (a tree schema, a model's answer) that checking it meets Python's recursion limit.
        return "", "the data is nested too deeply to be checked against the schema"
    if error is None:
        return None
    return "/".join(str(part) for part in error.absolute_path), error.message


class SchemaRefs:
    """The references of one schema, looked up inside it only (the extraction's view of them)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._resolver = _resolver(_resource(schema))
        self._found: dict[str, Any] = {}

    def lookup(self, ref: str) -> Any:
        """What ``ref`` points at inside the schema; None when it points nowhere there."""
        from referencing.exceptions import Unresolvable

        if ref not in self._found:
            try:
                self._found[ref] = self._resolver.lookup(ref).contents
            except Unresolvable:
                self._found[ref] = None
        return self._found[ref]


def _refuse_retrieval(uri: str) -> Any:
    """The resolver's retrieve function: a schema's references never leave the schema."""
    raise LookupError(f"{uri!r} is outside the schema, and nothing is fetched")


def _registry() -> Registry[Any]:
    from referencing import Registry

    # ``retrieve`` is an attrs alias, which mypy does not see.
    return Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def _dialect(schema: Mapping[str, Any]) -> Specification[Any]:
    """The dialect jsonschema validates ``schema`` with: the one ``$schema`` names, else the latest."""
    from referencing.jsonschema import DRAFT202012, specification_with

    return specification_with(str(schema.get("$schema", "")), default=DRAFT202012)


def _resource(schema: Mapping[str, Any]) -> Resource[Any]:
    from referencing import Resource

    return Resource.from_contents(schema, default_specification=_dialect(schema))


def _resolver(root: Resource[Any]) -> Resolver[Any]:
    resolver: Resolver[Any] = _registry().resolver_with_root(root)
    return resolver


def _validator(schema: Mapping[str, Any]) -> Validator:
    import jsonschema.validators

    # jsonschema adds its bundled meta-schemas to this registry itself (read from disk, never
    # fetched); without a registry it would fetch any remote reference.
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=_registry())


def _reference_problem(schema: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first reference of ``schema`` that points outside it, points nowhere, or starts a loop
    that never reaches deeper data; or chains too long. None when every reference is sound."""
    from referencing import Resource
    from referencing.exceptions import Unresolvable, Unretrievable

    paths = _paths(schema)
    # Schemas are visited in document order (referencing yields a schema's subschemas in no fixed
    # order), so the same schema always gets the same message.
    rank = {node: index for index, node in enumerate(paths)}

    def where(node: Mapping[str, Any]) -> str:
        return paths.get(id(node), "")

    def in_order(subs: Iterable[Resource[Any]]) -> list[Resource[Any]]:
        return sorted(subs, key=lambda sub: rank.get(id(sub.contents), len(rank)))

    root = _resource(schema)
    dialect = _dialect(schema)
    # The objects the meta-schema check has seen as schemas; a reference may also point elsewhere
    # (into a ``default``, say), at an object that must then pass the same check first.
    checked = {id(sub.contents) for sub in _subschemas(root)}
    # Every schema object reached (by id: the objects of the given document), with what applies
    # to the same value as it does: (target, the reference that leads there or None).
    edges: dict[int, list[tuple[int, str | None]]] = {}
    holders: dict[int, Mapping[str, Any]] = {}
    dynamic_anchors: dict[str, list[Mapping[str, Any]]] | None = None
    pending = deque([(root, _resolver(root))])
    while pending:
        resource, resolver = pending.popleft()
        node = resource.contents
        if not isinstance(node, Mapping) or id(node) in edges:
            continue
        holders[id(node)] = node
        out = edges[id(node)] = [(id(child), None) for child in _in_place(node)]
        pending.extend((sub, resolver.in_subresource(sub)) for sub in in_order(resource.subresources()))
        for keyword in _REFERENCES:
            ref = node.get(keyword)
            if not isinstance(ref, str):
                continue
            named = f"{keyword} {ref!r}"
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable as exc:
                if isinstance(exc.__cause__, Unretrievable) or isinstance(exc, Unretrievable):
                    return where(node), (
                        f"{named} points outside the schema; only references inside it "
                        "(such as '#/$defs/Name') are followed, nothing is fetched"
                    )
                return where(node), f"{named} does not resolve to anything inside the schema"
            target = resolved.contents
            if not isinstance(target, Mapping | bool):
                return where(node), f"{named} points at a {type(target).__name__}, not a schema"
            if isinstance(target, Mapping):
                if id(target) not in checked:
                    broken = _schema_problem(target, schema)
                    if broken is not None:
                        return where(node), f"{named} points at an invalid schema: {broken}"
                target_resource = Resource.from_contents(target, default_specification=dialect)
                checked.update(id(sub.contents) for sub in _subschemas(target_resource))
                out.append((id(target), named))
                if keyword == "$dynamicRef":  # may land on any anchor of the same name
                    if dynamic_anchors is None:
                        dynamic_anchors = _dynamic_anchors(schema)
                    out.extend(
                        (id(anchor), named) for anchor in dynamic_anchors.get(ref.partition("#")[2], ())
                    )
                pending.append((target_resource, resolved.resolver))
    loop = _loop(edges)
    if loop is not None:
        holder, named = loop
        return where(holders[holder]), (
            f"{named} is part of a loop of references that never goes deeper into the data, so "
            "checking a value against it would never end"
        )
    if _longest_chain(edges) > MAX_REFERENCE_CHAIN:
        return "", f"its references chain more than {MAX_REFERENCE_CHAIN} schemas deep"
    return None


def _in_place(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The schemas in ``node`` that apply to the same value as ``node``."""
    for keyword in _IN_PLACE_ONE:
        if isinstance(node.get(keyword), Mapping):
            yield node[keyword]
    for keyword in _IN_PLACE_LIST:
        if isinstance(node.get(keyword), list):
            yield from (member for member in node[keyword] if isinstance(member, Mapping))
    for keyword in _IN_PLACE_MAP:
        if isinstance(node.get(keyword), Mapping):
            yield from (member for member in node[keyword].values() if isinstance(member, Mapping))


def _dynamic_anchors(schema: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The objects of ``schema`` by the ``$dynamicAnchor`` they declare."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for node in _objects(schema):
        if isinstance(node.get("$dynamicAnchor"), str):
            found.setdefault(node["$dynamicAnchor"], []).append(node)
    return found


def _schema_problem(value: Mapping[str, Any], root: Mapping[str, Any]) -> str | None:
    """Why ``value`` (a part of ``root`` no check has seen as a schema) is no valid schema."""
    import jsonschema

    if not isinstance(value.get("$schema", ""), str):  # jsonschema fails on it with a TypeError
        return "its $schema is not the URI of a JSON Schema dialect"
    try:
        dialect = jsonschema.validators.validator_for(root)
        jsonschema.validators.validator_for(value, default=dialect).check_schema(dict(value))
    except jsonschema.SchemaError as exc:
        return exc.message
    return None


def _subschemas(resource: Resource[Any]) -> Iterator[Resource[Any]]:
    """``resource`` and every schema inside it, as its dialect places them."""
    stack = [resource]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.subresources())


def _loop(edges: dict[int, list[tuple[int, str | None]]]) -> tuple[int, str] | None:
    """A loop in ``edges``: the node holding a reference on it, and that reference."""
    done: set[int] = set()
    for start in edges:
        if start in done:
            continue
        # Depth first, iteratively (the chain may be long): the path walked, and for each of its
        # nodes the edges still to try and the edge that led to the next one.
        path: list[int] = [start]
        taken: list[str | None] = []
        todo = [iter(edges[start])]
        on_path = {start}
        while todo:
            step = next(todo[-1], None)
            if step is None:
                todo.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                if taken:  # the edge that led to it
                    taken.pop()
                continue
            target, named = step
            if target in on_path:
                at = path.index(target)
                steps = [*taken[at:], named]
                for offset, label in enumerate(steps):
                    if label is not None:
                        return path[at + offset], label
                return path[-1], "a schema"
            if target in done or target not in edges:
                continue
            path.append(target)
            taken.append(named)
            todo.append(iter(edges[target]))
            on_path.add(target)
    return None


def _longest_chain(edges: dict[int, list[tuple[int, str | None]]]) -> int:
    """The most schemas one value is checked through, one after another (``edges`` has no loop)."""
    longest: dict[int, int] = {}
    for start in edges:
        stack = [start]
        while stack:
            node = stack[-1]
            if node in longest:
                stack.pop()
                continue
            waiting = [t for t, _ in edges[node] if t in edges and t not in longest]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            longest[node] = max((1 + longest[t] for t, _ in edges[node] if t in edges), default=0)
    return max(longest.values(), default=0)


def _objects(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every object in ``value``, iteratively (the value may be deep)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _paths(schema: Mapping[str, Any]) -> dict[int, str]:
    """Where each object of ``schema`` is ("properties/name"), by id, for error messages."""
    found: dict[int, str] = {}
    queue: list[tuple[Any, str]] = [(schema, "")]
    for item, path in queue:  # breadth first: the shortest path of an object seen twice
        if isinstance(item, Mapping) and id(item) not in found:
            found[id(item)] = path
            queue.extend((v, f"{path}/{k}" if path else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            queue.extend((v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(item))
    return found


def _depth(value: Any) -> int:
    """How deeply dicts and lists nest in ``value`` (iteratively: the value may be very deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
