"""pmg.conf: every key declared once, checked on load, written atomically."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pmgfast.config import pmgconf
from pmgfast.config.schema import KEYS, SECTIONS, Kind, lookup

ADMIN_GUIDE = Path(__file__).resolve().parents[3] / "shared" / "spec" / "pmg-admin-guide.txt"


def documented_keys() -> dict[str, str]:
    """``name: <type> (default = X)`` lines of the admin guide sections 4.5.2, 4.7, 4.8, 4.9."""
    text = ADMIN_GUIDE.read_text()
    start, end = text.index("4.5.2. Options"), text.index("4.10. Custom SpamAssassin")
    found = {}
    for match in re.finditer(r"^([a-z][a-z0-9_-]*): (.*)$", text[start:end], re.MULTILINE):
        found.setdefault(match.group(1), match.group(2))
    return found


def test_every_key_of_the_admin_guide_is_declared_with_its_default():
    declared = {key.name: key for key in KEYS}
    documented = documented_keys()
    assert len(documented) > 70
    for name, spec in documented.items():
        assert name in declared, f"admin guide key {name!r} is not declared"
        default = re.search(r"\(default = ([^)]*)\)", spec)
        if default:
            key = declared[name]
            assert key.format(key.default) == default.group(1), name


def test_documented_ranges_are_enforced():
    documented = documented_keys()
    for name, spec in documented.items():
        bounds = re.search(r"<integer> \((\d+) - (\d+|N)\)", spec)
        if not bounds:
            continue
        key = next(k for k in KEYS if k.name == name)
        assert key.kind is Kind.INTEGER
        assert key.minimum == int(bounds.group(1)), name
        assert key.maximum == (None if bounds.group(2) == "N" else int(bounds.group(2))), name


def test_defaults_when_file_is_missing(tmp_path):
    conf = pmgconf.load(tmp_path / "pmg.conf")
    assert conf.get("mail", "maxsize") == 10485760
    assert conf.get("mail", "greylist") is True
    assert conf.get("spam", "languages") == "all"
    assert conf.get("mail", "relay") is None


def test_parse_pmg_format():
    conf = pmgconf.parse(
        "# a comment\nsection: mail\n\tmaxsize 2048\n    relay mail.example.com\n\n"
        "section: spam\n\tuse_bayes 1\n"
    )
    assert conf.get("mail", "maxsize") == 2048
    assert conf.get("mail", "relay") == "mail.example.com"
    assert conf.get("spam", "use_bayes") is True


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "section: mail\n\tmaxsize 12\n",
            2,
            "mail.maxsize: 12 is out of range (allowed: 1024 - N)",
        ),
        ("section: mail\n\tmaxsiz 2048\n", 2, "unknown key 'maxsiz'"),
        ("section: mial\n", 1, "unknown section 'mial'"),
        ("section: mail\nmaxsize 2048\n", 2, "cannot read this line"),
        ("\tmaxsize 2048\n", 1, "before any 'section: NAME'"),
        ("section: mail\n\tgreylist yes\n", 2, "'yes' is not a boolean (allowed: 0 | 1)"),
        ("section: mail\n\trelayprotocol uucp\n", 2, "allowed values (lmtp | smtp)"),
        ("section: mail\n\tmaxsize 2048\n\tmaxsize 4096\n", 3, "set twice"),
        ("section: mail\n\n# x\nsection: mail\n", 4, "appears twice"),
        ("section: mail\n\tint_port 25\n", 2, "ext_port and int_port must differ"),
        ("section: spam\n\tlanguages english\n", 2, "does not match the required format"),
        ("section: admin\n\tcustom_check_path relative/path\n", 2, "does not match"),
    ],
)
def test_errors_name_file_line_and_key(text, line, fragment):
    with pytest.raises(pmgconf.ConfigError) as caught:
        pmgconf.parse(text, "/etc/pmgfast/pmg.conf")
    message = str(caught.value)
    assert message.startswith(f"/etc/pmgfast/pmg.conf:{line}: ")
    assert fragment in message
    assert "\n" not in message


def test_set_checks_range_and_keeps_file_unchanged(tmp_path):
    path = tmp_path / "pmg.conf"
    path.write_text("section: mail\n\tmaxsize 2048\n")
    conf = pmgconf.load(path)
    with pytest.raises(pmgconf.ConfigError, match=r"allowed: 1024 - N"):
        conf.set("mail", "maxsize", "12")
    assert conf.get("mail", "maxsize") == 2048
    conf.set("mail", "maxsize", "4096")
    conf.set("spam", "use_bayes", "1")
    conf.save()
    again = pmgconf.load(path)
    assert again.get("mail", "maxsize") == 4096
    assert again.get("spam", "use_bayes") is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pmg.conf"]


STRING_SAMPLES = (
    "value-1",
    "/opt/value-1",
    "a@b.example",
    "http://proxy:3128",
    "en de",
    "127.0.0.1:53",
    "10024,10023",
)


def _parses(key, raw: str) -> bool:
    try:
        key.parse(raw)
    except ValueError:
        return False
    return True


def test_render_round_trips_every_key_with_a_non_default_value(tmp_path):
    conf = pmgconf.PmgConf(path=tmp_path / "pmg.conf")
    for key in KEYS:
        if key.kind is Kind.BOOLEAN:
            raw = "0" if key.default else "1"
        elif key.kind is Kind.INTEGER:
            raw = str((key.minimum or 0) + 1)
        elif key.kind is Kind.CHOICE:
            raw = key.choices[-1]
        else:
            raw = next(v for v in STRING_SAMPLES if _parses(key, v))
        if key.qualified == "mail.ext_port":
            raw = "2525"
        conf.set(key.section, key.name, raw)
    conf.save()
    again = pmgconf.load(conf.path)
    assert again.values == conf.values
    assert set(again.values) == set(SECTIONS)


def test_lookup_unknown():
    with pytest.raises(KeyError, match="unknown section"):
        lookup("nosuch", "x")
    with pytest.raises(KeyError, match="unknown key"):
        lookup("mail", "nosuch")
