"""#13.24: every environment variable the code reads is documented in config.example.env and the README."""

from __future__ import annotations

import re

from tests.conftest import ROOT

#: os.environ.get("X") / os.environ["X"] / os.getenv("X") / _env_int("X", …) / NAME_ENV = "X"
_READS = re.compile(r"""(?:os\.environ(?:\.get)?\s*[\(\[]|os\.getenv\(|_env_\w+\()\s*["']([A-Z][A-Z0-9_]+)["']""")
_CONSTANTS = re.compile(r"""^\s*[A-Z_]*_ENV\s*=\s*["']([A-Z][A-Z0-9_]+)["']""", re.MULTILINE)
#: ScorerSettings.from_mapping reads prefix + name (prefix "WFP_")
_PREFIXED = re.compile(r"""(?:flag\(|prefix \+ )\s*["']([A-Z][A-Z0-9_]+)["']""")


def env_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(_READS.findall(text)) | set(_CONSTANTS.findall(text))
        if "def from_mapping" in text:
            names |= {"WFP_" + n for n in _PREFIXED.findall(text)}
    return names


def test_the_scan_finds_the_known_settings():
    names = env_names()
    assert {"DATABASE_URL", "APP_COOKIE_KEY", "UPLOAD_MAX_MB", "MODEL_SIGNING_KEY", "WFP_ML_ENABLED",
            "WFP_CONFIDENCE_THRESHOLD", "WFP_NEW_PASSWORD", "APP_TIMEZONE"} <= names


def test_every_environment_setting_is_in_config_example_env_and_the_readme():
    example = (ROOT / "config.example.env").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing_example = sorted(env_names() - documented)
    missing_readme = sorted(n for n in env_names() if f"`{n}`" not in readme)
    assert not missing_example, f"add to config.example.env: {missing_example}"
    assert not missing_readme, f"add to the README's Settings table: {missing_readme}"


def test_sizes_say_mib():
    """The limits are binary megabytes (x 1024 x 1024): the docs say MiB, not an ambiguous MB."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "60 MB" not in readme and "60 MiB" in readme
    assert "MiB" in (ROOT / "config.example.env").read_text(encoding="utf-8")
