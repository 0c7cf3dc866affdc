"""The public surface of `videowall.api` as text, for the snapshot test (plugins rely on it).

`python -m tests.plugin_host.api_surface > tests/plugin_host/api_surface.txt` writes it
anew after an intended change (raise API_VERSION's minor for additions, major for removals).
"""

from __future__ import annotations

import enum
import inspect
from typing import Any

from pydantic import BaseModel


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _schema_type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " | ".join(_schema_type(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"array[{_schema_type(prop.get('items', {}))}]"
    return str(prop.get("type", "any"))


def _default(info: Any) -> str:
    if info.default_factory is not None:
        return f"{info.default_factory.__name__}()"
    value = info.default
    return repr(value.value if isinstance(value, enum.Enum) else value)


def _members(cls: type) -> list[str]:
    out = []
    if issubclass(cls, enum.Enum):
        return [f"  {m.name} = {m.value!r}" for m in cls]
    if issubclass(cls, BaseModel):
        # JSON-schema types: what a plugin relies on, without validators' internals.
        props = cls.model_json_schema().get("properties", {})
        for name, info in cls.model_fields.items():
            kind = _schema_type(props.get(info.alias or name, {}))
            default = "required" if info.is_required() else f"default {_default(info)}"
            out.append(f"  field {name}: {kind} ({default})")
    fields = getattr(cls, "__dataclass_fields__", {})
    out += [f"  field {name}: {f.type}" for name, f in fields.items()]
    for name, value in sorted(vars(cls).items()):
        if name.startswith("_") or name in fields:
            continue
        if isinstance(value, property):
            out.append(f"  property {name}")
        elif callable(value) or isinstance(value, classmethod | staticmethod):
            target = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            out.append(f"  def {name}{_signature(target)}")
    return out


def surface() -> str:
    from videowall import api

    lines = []
    for name in sorted(api.__all__):
        obj = getattr(api, name)
        if inspect.isclass(obj):
            bases = ", ".join(b.__name__ for b in obj.__bases__)
            lines.append(f"class {name}({bases})")
            lines += _members(obj)
        elif inspect.isfunction(obj):
            lines.append(f"def {name}{_signature(obj)}")
        elif inspect.ismodule(obj):
            public = sorted(n for n in vars(obj) if n.isupper())
            lines.append(f"module {name}: {', '.join(public)}")
        else:
            lines.append(f"{name} = {obj!r}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(surface(), end="")
