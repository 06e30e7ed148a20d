"""The host's apt sources, read in either format, for the lab's private apt (xenlab.parts).

apt reads one-line entries (`/etc/apt/sources.list`, `sources.list.d/*.list`:
`deb [opt=val ...] URI SUITE COMPONENT...`) and deb822 stanzas
(`sources.list.d/*.sources`: `Types:`, `URIs:`, `Suites:`, `Components:`,
options such as `Signed-By:`). A Debian installed by its installer has the
first, a cloud image or a container often the second. The lab reads both,
keeps the entries of its Debian release, and writes its own deb822 file
under the cache, with a `deb-src` entry for `apt-get source`: the host's
`/etc/apt` is only read, never written. A release the host has no entries
for (Debian 13's packages on a Debian 12 host) is derived from the host's
own release's entries: same mirrors, options and components, that release's
suites.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xenlab.parts.errors import PartsError

# deb822 option fields and their one-line spellings (apt's sources.list(5)).
_OPTION_FIELDS = {"signed-by": "Signed-By", "arch": "Architectures", "lang": "Languages",
                  "target": "Targets", "trusted": "Trusted", "check-valid-until":
                  "Check-Valid-Until", "pdiffs": "PDiffs", "by-hash": "By-Hash"}
_FIELD_OPTIONS = {v.lower(): k for k, v in _OPTION_FIELDS.items()}


@dataclass(frozen=True)
class SourceEntry:
    """One apt source: types (deb, deb-src) x URIs x suites, with components and options."""

    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()  # deb822 field name -> value, in order


def parse_deb822(text: str) -> list[SourceEntry]:
    """Entries of a deb822 `.sources` file (comments dropped, `Enabled: no` skipped)."""
    entries = []
    for stanza in _stanzas(text):
        fields = {k.lower(): v for k, v in stanza.items()}
        if fields.get("enabled", "yes").strip().lower() == "no":
            continue
        if not {"types", "uris", "suites"} <= fields.keys():
            continue
        options = tuple((k, v) for k, v in stanza.items() if k.lower() in _FIELD_OPTIONS)
        entries.append(SourceEntry(tuple(fields["types"].split()), tuple(fields["uris"].split()),
                                   tuple(fields["suites"].split()),
                                   tuple(fields.get("components", "").split()), options))
    return entries


def _stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, last = {}, ""
            continue
        if raw[0] in " \t" and last:
            current[last] += "\n" + raw.strip()
            continue
        key, _, value = raw.partition(":")
        last = key.strip()
        current[last] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def parse_one_line(text: str) -> list[SourceEntry]:
    """Entries of a one-line `sources.list` / `*.list` file (comments and blanks dropped)."""
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        options: list[tuple[str, str]] = []
        rest = rest.strip()
        if rest.startswith("["):
            opts, sep, rest = rest[1:].partition("]")
            if not sep:
                continue
            for word in opts.split():
                key, _, value = word.partition("=")
                key = key.rstrip("+-")  # `arch+=` / `arch-=` edit a default; keep the value
                field = _OPTION_FIELDS.get(key.lower(), key)
                options.append((field, value.replace(",", " ")))
        words = rest.split()
        if kind not in ("deb", "deb-src") or len(words) < 2:
            continue
        entries.append(SourceEntry((kind,), (words[0],), (words[1],), tuple(words[2:]),
                                   tuple(options)))
    return entries


def read_host_sources(etc: Path = Path("/etc/apt")) -> list[SourceEntry]:
    """Every entry apt would read from `etc`: sources.list, sources.list.d/*.list and *.sources."""
    files = [etc / "sources.list"] if (etc / "sources.list").is_file() else []
    parts = etc / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    entries: list[SourceEntry] = []
    for path in files:
        try:
            text = path.read_text()
        except OSError as exc:
            raise PartsError(f"cannot read apt source file {path}: {exc}") from exc
        entries += parse_deb822(text) if path.suffix == ".sources" else parse_one_line(text)
    return entries


def release_entries(entries: list[SourceEntry], release: str) -> list[SourceEntry]:
    """The binary entries for Debian `release` and its -updates/-security suites."""
    wanted = {release, f"{release}-updates", f"{release}-security"}
    out = []
    for e in entries:
        suites = tuple(s for s in e.suites if s in wanted)
        if "deb" in e.types and suites:
            out.append(SourceEntry(("deb",), e.uris, suites, e.components, e.options))
    return out


def derived_entries(entries: list[SourceEntry], release: str, base: str) -> list[SourceEntry]:
    """The host's entries for Debian `base` rewritten for `release` (`base-updates` becomes
    `release-updates`, ...): the same mirrors serve every Debian release."""
    out = []
    for e in release_entries(entries, base):
        suites = tuple(release + s.removeprefix(base) for s in e.suites)
        out.append(SourceEntry(e.types, e.uris, suites, e.components, e.options))
    return out


def lab_sources(entries: list[SourceEntry], release: str, base: str = "") -> str:
    """The lab's deb822 sources: the host's entries for `release` (derived from those of the
    host's own release `base` when it has none), and `deb-src` for its main suite (only there:
    the security archive lists newer sources that it does not serve)."""
    binary = release_entries(entries, release)
    if not binary and base and base != release:
        binary = derived_entries(entries, release, base)
    main = [e for e in binary if release in e.suites]
    if not main:
        raise PartsError(
            f"the host's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/) have no "
            f"'deb' entry for Debian {release}; the lab fetches Debian's packages through them. "
            f"Add one (e.g. 'deb http://deb.debian.org/debian {release} main') and run again.")
    src = SourceEntry(("deb-src",), main[0].uris, (release,), ("main",), main[0].options)
    return "# Written by xenolith's lab (xenlab.parts) from the host's apt sources.\n\n" + \
        "\n".join(_stanza(e) for e in [*binary, src])


def host_release(os_release: Path = Path("/etc/os-release")) -> str:
    """The host's Debian release (VERSION_CODENAME), or "" when it does not say."""
    try:
        text = os_release.read_text()
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "VERSION_CODENAME":
            return value.strip().strip('"')
    return ""


def one_line(entries: list[SourceEntry]) -> str:
    """`entries` in the one-line format (an option whose value spans lines is left out)."""
    lines = []
    for e in entries:
        opts = " ".join(f"{_FIELD_OPTIONS.get(k.lower(), k.lower())}={v.replace(' ', ',')}"
                        for k, v in e.options if "\n" not in v)
        for kind in e.types:
            for uri in e.uris:
                for suite in e.suites:
                    words = [kind, f"[{opts}]" if opts else "", uri, suite, *e.components]
                    lines.append(" ".join(w for w in words if w))
    return "\n".join(lines) + "\n"


def _stanza(e: SourceEntry) -> str:
    lines = [f"Types: {' '.join(e.types)}", f"URIs: {' '.join(e.uris)}",
             f"Suites: {' '.join(e.suites)}", f"Components: {' '.join(e.components) or 'main'}"]
    for key, value in e.options:
        first, *more = value.split("\n")
        lines.append(f"{key}: {first}")
        lines += [f" {m}" if m.strip() else " ." for m in more]
    return "\n".join(lines) + "\n"
