# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory bundles: the fleet as a plain Ansible inventory directory in a tgz or zip archive.

The bundle writer takes the plain data of ``inventory_query.load_inventory``
(the one inventory query) and writes an archive that, extracted anywhere,
is an inventory directory that Ansible reads with its own ``yaml`` inventory
plugin and ``host_group_vars`` vars plugin::

    hosts.yml                  groups and their members (YAML inventory)
    group_vars/<group>.yml     variables of each group that has any
    host_vars/<host>.yml       variables of each host that has any
    .secrets/<host>/<secret>   secret files, mode 0600 (directories 0700)

``ansible-inventory -i DIR --list`` of the extracted directory equals the
``craton.fleet.inventory`` plugin's output for the same filters (see
docs/bundles.md for the exact correspondence):

* The tenant becomes the group ``tenant_<name>`` and each region
  ``region_<name>`` (``precedence.name_groups``), children of ``all`` with
  ``ansible_group_priority`` -2 and -1 set in ``hosts.yml`` (Ansible takes a
  group's priority only from the inventory source, not from ``group_vars/``).
  User groups keep their children; a user group that sets
  ``ansible_group_priority`` gets it in ``hosts.yml`` too. Group variables live
  in ``group_vars/``, so Ansible merges them in the plugin's order (depth,
  priority, name).
* A group's vars references are resolved and merged under its own variables
  (``precedence.merged_group_vars``), as the plugin does.
* ``host_vars/<host>.yml`` holds the host's variables, overridden by its
  well-known columns (``ansible_host``...), then by the secret variables.
* Templates and trust: a static inventory file is trusted, so every value
  the plugin would mark untrusted (untrusted variables, values of vars
  references unless trusted, column values holding template syntax) is
  written with the ``!unsafe`` tag: it is data and never renders. Ansible
  resolves an ``!unsafe`` scalar again as if it were plain (``!unsafe "5"``
  reads as the number 5, ``!unsafe ""`` as null), so a file holding an
  untrusted string that would change type is written as JSON instead (which
  Ansible reads first), with ``{"__ansible_unsafe": "..."}`` for untrusted
  strings. Either way the file is named ``.yml``.
* Secrets are decrypted into ``.secrets/<host>/<secret name>`` (mode 0600);
  ``craton_secret_files`` maps each secret name to
  ``{{ inventory_dir }}/.secrets/<host>/<name>`` and
  ``ansible_ssh_private_key_file`` points at the host's ``ssh_private_key``
  secret (same choice as the plugin). The path is a template of the magic
  variable ``inventory_dir``, so it resolves wherever the archive is
  extracted. ``.secrets`` starts with a dot so that ``ansible-inventory -i DIR``
  does not try to read the secret files as inventory sources.

Per-host bundles (``per_host=True``) hold one such directory per host,
``<host>/hosts.yml`` ..., each with only that host, its groups (and their
ancestors), their variables, its own variables and its secrets.

Archives are deterministic: the same inventory gives byte-identical files.
Entries are sorted by path (a directory before its content), times are fixed
(tar mtime 0, zip 1980-01-01 00:00), owners are uid/gid 0 ``root``, modes are
fixed (directories 0755, files 0644, secrets 0600 in directories of mode
0700), the gzip header has mtime 0 and no file name, and zip archives are
always written as a stream (data descriptors), whatever the target.

Everything that can fail (names that a static inventory cannot hold, secrets
that do not decrypt, vars references) fails before the first byte is
produced, with a CratonError naming the problem.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import stat
import tarfile
import zipfile

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError, NotFound
from ansible_collections.craton.fleet.plugins.module_utils.precedence import (
    REGION_PREFIX, REGION_PRIORITY, SECRET_FILES_VAR, SSH_KEY_VAR, TENANT_PREFIX, TENANT_PRIORITY,
    merged_group_vars, name_groups)
from ansible_collections.craton.fleet.plugins.module_utils.vars_references import (
    ReferenceFetcher, resolve_references)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

FORMATS = ("tgz", "zip")
MEDIA_TYPES = {"tgz": "application/gzip", "zip": "application/zip"}
HOSTS_FILE = "hosts.yml"
SECRETS_DIR = ".secrets"
DIR_MODE = 0o755
FILE_MODE = 0o644
SECRET_MODE = 0o600
SECRET_DIR_MODE = 0o700
TAR_MTIME = 0
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
GZIP_LEVEL = 6
PRIORITY_VAR = "ansible_group_priority"
SECRET_PATH_TEMPLATE = "{{ inventory_dir }}/%s/%s/%s"
_TEMPLATE_MARKERS = re.compile(r"{{|{%|{#")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
# A YAML inventory reads "name:22" as host "name" with port 22 and "name[...]" as a range.
_HOST_WITH_PORT = re.compile(r"^[^:]*:[0-9]+$")


class _Unsafe(str):
    """An untrusted string: written with the ``!unsafe`` tag, data that never renders."""

    __slots__ = ()


class _UnsafeList(list):
    """An untrusted list: ``!unsafe [...]`` (every string inside is untrusted)."""

    __slots__ = ()


class _UnsafeDict(dict):
    """An untrusted mapping: ``!unsafe {...}`` (every string inside is untrusted)."""

    __slots__ = ()


if HAS_YAML:
    _BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class _Dumper(_BaseDumper):  # pylint: disable=too-many-ancestors
        """The safe dumper, plus ``!unsafe`` values."""

    def _represent_unsafe(dumper, value):
        return dumper.represent_scalar("!unsafe", str(value), style='"')

    def _represent_unsafe_list(dumper, value):
        return dumper.represent_sequence("!unsafe", list(value))

    def _represent_unsafe_dict(dumper, value):
        return dumper.represent_mapping("!unsafe", dict(value))

    _Dumper.add_representer(_Unsafe, _represent_unsafe)
    _Dumper.add_representer(_UnsafeList, _represent_unsafe_list)
    _Dumper.add_representer(_UnsafeDict, _represent_unsafe_dict)
    _RESOLVER = yaml.resolver.Resolver()
    _STR_TAG = "tag:yaml.org,2002:str"


def _reads_as_str(text):
    """Whether a plain YAML scalar ``text`` is a string (not null, a number, a boolean, a date)."""
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


def _require_yaml():
    if not HAS_YAML:
        raise CratonError("writing inventory bundles needs the Python package PyYAML")


def _dump_with_pyyaml(data):
    return yaml.dump(data, Dumper=_Dumper, explicit_start=True, default_flow_style=False,
                     sort_keys=False, allow_unicode=True, width=1 << 30).encode("utf-8")


# --- a fast YAML writer for variable files -------------------------------------------
#
# PyYAML's representer costs most of the time of a big bundle. Variables are JSON
# data, so each top-level value is written in flow style from JSON pieces: strings
# double-quoted by the json module (YAML reads the same escapes), with the characters
# that YAML does not accept raw escaped too; floats always with a dot or as .inf/.nan
# (YAML 1.1 reads "1e+100" as a string); untrusted values tagged !unsafe (strings one by
# one, lists and mappings as a whole). Keys that YAML could not read as a simple key
# (over 1024 characters) make the file fall back to PyYAML; an untrusted string that
# !unsafe cannot carry makes it JSON (see _dump_vars). Every YAML document starts with
# "---", so that Ansible never reads it as JSON.

_YAML_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_MAX_SIMPLE_KEY = 1000
_json_str = json.encoder.encode_basestring  # the C version when available
_KEYS = {}


class _Fallback(Exception):
    """This document needs PyYAML."""


class _NeedsJson(Exception):
    """This document holds an untrusted string that YAML cannot mark (see _dump_json)."""


def _quote(text):
    quoted = _json_str(text)
    if not quoted.isascii() or "\x7f" in quoted:
        quoted = _YAML_ESCAPE.sub(lambda m: "\\u%04x" % ord(m.group()), quoted)
    return quoted


def _plain_or_quoted(text, pattern):
    if pattern.match(text) and _reads_as_str(text):
        return text
    if len(text) > _MAX_SIMPLE_KEY:
        raise _Fallback()
    return _quote(text)


def _key(text):
    """A top-level variable name or inventory name as a YAML simple key."""
    found = _KEYS.get(text)
    if found is None:
        found = _plain_or_quoted(text, _PLAIN_NAME)
        if len(_KEYS) < 100000:
            _KEYS[text] = found
    return found


def _float(value):
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _flow(value):
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is _Unsafe:
        if not _reads_as_str(value):
            raise _NeedsJson()
        return "!unsafe " + _quote(value)
    if kind is _UnsafeDict:
        return "!unsafe " + _flow(dict(value))
    if kind is _UnsafeList:
        return "!unsafe " + _flow(list(value))
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    if kind is dict:
        parts = []
        for k, v in value.items():
            k = str(k)
            if len(k) > _MAX_SIMPLE_KEY:
                raise _Fallback()
            parts.append("%s: %s" % (_quote(k), _flow(v)))
        return "{%s}" % ", ".join(parts)
    if kind is list or kind is tuple:
        return "[%s]" % ", ".join(map(_flow, value))
    raise _Fallback()


def _dump_vars(variables):
    """A variables file (bytes): YAML, one ``name: value`` line per variable; JSON when needed.

    Ansible's ``!unsafe`` constructor resolves a tagged scalar again as if it were
    plain, so ``!unsafe ""`` reads as null and ``!unsafe "5"`` as 5. A file with
    such an untrusted string is written as JSON instead, which Ansible reads
    first, with ``{"__ansible_unsafe": "..."}`` for untrusted strings."""
    try:
        try:
            lines = ["---\n"]
            for key, value in variables.items():
                lines.append("%s: %s\n" % (_key(key), _flow(value)))
            if len(lines) == 1:
                lines.append("{}\n")
            return "".join(lines).encode("utf-8")
        except _Fallback:
            if any(isinstance(v, _Unsafe) and not _reads_as_str(v) for v in variables.values()):
                raise _NeedsJson() from None
            return _dump_with_pyyaml(variables)
    except _NeedsJson:
        return _dump_json(variables)


# Keys that make Ansible's JSON decoder turn a mapping into something else.
_JSON_MARKERS = frozenset(("__ansible_unsafe", "__ansible_vault", "__ansible_type"))


def _json_ready(value, key, untrusted=False):
    kind = type(value)
    if kind is _Unsafe or (untrusted and isinstance(value, str)):
        return {"__ansible_unsafe": str(value)}
    if isinstance(value, dict):
        marker = _JSON_MARKERS.intersection(value)
        if marker:
            raise CratonError("variable %r: a mapping with the key %s cannot be written to an inventory bundle "
                              "in the same file as an untrusted string that YAML reads as another type"
                              % (key, sorted(marker)[0]))
        inner = untrusted or kind is _UnsafeDict
        return {k: _json_ready(v, key, inner) for k, v in value.items()}
    if isinstance(value, list):
        inner = untrusted or kind is _UnsafeList
        return [_json_ready(v, key, inner) for v in value]
    return value


def _check_json(variables):
    """Raise now (before any byte is written) what :func:`_dump_vars` would raise later."""
    if any(isinstance(v, _Unsafe) and not _reads_as_str(v) for v in variables.values()):
        for key, value in variables.items():
            _json_ready(value, key)


def _dump_json(variables):
    document = {key: _json_ready(value, key) for key, value in variables.items()}
    body = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=True)
    return (body + "\n").encode("utf-8")


def _unsafe(value):
    """``value`` marked untrusted (numbers, booleans and null hold no string: they stay as they are)."""
    kind = type(value)
    if kind is str:
        return _Unsafe(value)
    if kind is dict:
        return _UnsafeDict(value)
    if kind is list:
        return _UnsafeList(value)
    return value


def _data(value):
    """A data value (well-known column): strings with template syntax become untrusted,
    exactly those the plugin leaves untrusted."""
    kind = type(value)
    if kind is str:
        return _Unsafe(value) if _TEMPLATE_MARKERS.search(value) else value
    if kind is dict:
        return {k: _data(v) for k, v in value.items()}
    return value


def _variables(variables, untrusted, skip_priority=False):
    """Variables sorted by name, untrusted ones marked."""
    out = {}
    for key in sorted(variables):
        if skip_priority and key == PRIORITY_VAR:
            continue
        value = variables[key]
        out[key] = _unsafe(value) if key in untrusted else value
    return out


def _check_file_name(kind, name):
    if "/" in name or name in (".", "..") or "\x00" in name:
        raise CratonError("%s %r cannot be written to an inventory bundle: its name is not a file name "
                          "(no '/', not '.' or '..')" % (kind, name))


def _check_host_name(name):
    _check_file_name("host", name)
    if "[" in name or _HOST_WITH_PORT.match(name):
        raise CratonError("host %r cannot be written to an inventory bundle: a YAML inventory reads "
                          "it as a host range or a host with a port" % (name,))


def _safe_file_name(name, used, suffix):
    """A file name made of safe characters, unique in ``used``."""
    candidate = _UNSAFE_FILE_CHARS.sub("_", name)
    if candidate in (".", ".."):
        candidate = candidate.replace(".", "_")
    if candidate != name or candidate in used:
        candidate = "%s-%s" % (candidate, suffix)
        while candidate in used:
            candidate += "_"
    used.add(candidate)
    return candidate


def prepare(inventory, fetcher=None, references_on_error="error", references_trusted=False,
            tenant_prefix=TENANT_PREFIX, region_prefix=REGION_PREFIX):
    """Complete ``inventory`` (from ``load_inventory``) as the plugin does before feeding Ansible.

    Resolves the groups' vars references (unless already resolved) and names
    the tenant and region groups (unless already named). Modifies and returns
    ``inventory``; warnings of skipped references are added to its ``warnings``."""
    if any("resolved_references" not in g for g in inventory["groups"]):
        inventory.setdefault("warnings", []).extend(resolve_references(
            inventory, fetcher or ReferenceFetcher(), on_error=references_on_error,
            trusted=references_trusted))
    if any("group" not in e for e in inventory["tenants"] + inventory["regions"]):
        name_groups(inventory, tenant_prefix, region_prefix)
    return inventory


class _Plan:
    """What goes into a bundle: everything checked and every secret decrypted up front."""

    def __init__(self, inventory, decrypt):
        self.groups = []  # [(name, ansible_group_priority for hosts.yml or None, [child names])]
        self.group_vars = {}  # group name -> variables ready to dump (only groups that have some)
        self.parents = {}
        self.hosts = inventory["hosts"]
        self.host_groups = {}  # host name -> [group names] (tenant, region, user groups)
        self.secret_dirs = {}
        self.secrets = {}  # host name -> [(file name, plaintext)]
        self.secret_vars = {}
        self._group_files = {}
        self._group_position = None
        self._collect_groups(inventory)
        self._collect_secrets(decrypt)

    def _collect_groups(self, inventory):
        tenant_groups, region_groups = {}, {}
        for priority, entries, names in ((TENANT_PRIORITY, inventory["tenants"], tenant_groups),
                                         (REGION_PRIORITY, inventory["regions"], region_groups)):
            for entry in entries:
                name = entry["group"]
                _check_file_name("group", name)
                names[(entry.get("tenant"), entry["name"])] = name
                self.groups.append((name, priority, []))
                variables = _variables(entry["vars"], set(entry["untrusted"]), skip_priority=True)
                if variables:
                    _check_json(variables)
                    self.group_vars[name] = variables
        for group in inventory["groups"]:
            name = group["name"]
            _check_file_name("group", name)
            variables, untrusted = merged_group_vars(group)
            priority = None
            if PRIORITY_VAR in variables:
                try:
                    priority = int(variables[PRIORITY_VAR])
                except (TypeError, ValueError):
                    raise CratonError("group %r: ansible_group_priority must be an integer, not %r"
                                      % (name, variables[PRIORITY_VAR])) from None
            self.groups.append((name, priority, list(group["children"])))
            for child in group["children"]:
                self.parents.setdefault(child, []).append(name)
            variables = _variables(variables, untrusted, skip_priority=True)
            if variables:
                _check_json(variables)
                self.group_vars[name] = variables
        for host in self.hosts:
            _check_host_name(host["name"])
            untrusted = host["untrusted"]
            if untrusted and any(isinstance(host["vars"][k], str) and not _reads_as_str(host["vars"][k])
                                 for k in untrusted):
                _check_json(_variables(host["vars"], set(untrusted)))
            mine = [tenant_groups[(None, host["tenant"])]]
            region = region_groups.get((host["tenant"], host["region"]))
            if region is not None:
                mine.append(region)
            mine.extend(host["groups"])
            self.host_groups[host["name"]] = mine

    def _collect_secrets(self, decrypt):
        used_dirs = set()
        for host in self.hosts:
            secrets = host.get("secrets")
            if not secrets:
                continue
            if decrypt is None:
                raise CratonError("host %r has secrets but no way to decrypt them was given" % host["name"])
            directory = _safe_file_name(host["name"], used_dirs, host["id"])
            self.secret_dirs[host["name"]] = directory
            used, files, paths, ssh_keys = set(), [], {}, []
            for secret in secrets:
                what = "secret %r of host %r" % (secret["name"], host["name"])
                plaintext = decrypt(secret["ciphertext"].encode("ascii"), what)
                file_name = _safe_file_name(secret["name"], used, secret["id"])
                files.append((file_name, plaintext))
                paths[secret["name"]] = SECRET_PATH_TEMPLATE % (SECRETS_DIR, directory, file_name)
                if secret["kind"] == "ssh_private_key":
                    ssh_keys.append(secret["name"])
            variables = {SECRET_FILES_VAR: paths}
            if ssh_keys:
                chosen = "ssh_private_key" if "ssh_private_key" in ssh_keys else sorted(ssh_keys)[0]
                variables[SSH_KEY_VAR] = paths[chosen]
            self.secrets[host["name"]] = files
            self.secret_vars[host["name"]] = variables

    def host_vars(self, host):
        """The variables of ``host`` for its host_vars file, in the plugin's order of precedence."""
        variables = _variables(host["vars"], set(host["untrusted"]))
        for key, value in host["well_known"].items():
            variables[key] = _data(value)
        variables.update(self.secret_vars.get(host["name"], ()))
        return dict(sorted(variables.items()))

    @property
    def group_position(self):
        """{group name: index in ``groups``}."""
        if self._group_position is None:
            self._group_position = {entry[0]: i for i, entry in enumerate(self.groups)}
        return self._group_position

    def group_file(self, name):
        """The ``group_vars/<name>.yml`` document (bytes), made once per bundle."""
        found = self._group_files.get(name)
        if found is None:
            found = self._group_files[name] = _dump_vars(self.group_vars[name])
        return found

    def closure(self, names):
        """``names`` and all their ancestor groups."""
        seen, stack = set(), list(names)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(self.parents.get(name, ()))
        return seen

    def hosts_file(self, hosts, only_groups=None):
        """The ``hosts.yml`` document for ``hosts`` (host entries), as bytes.

        Top-level keys are groups (Ansible makes those without parents children
        of ``all``); members are listed in the inventory's host order, as the
        plugin adds them."""
        members = {}
        for host in hosts:
            for group in self.host_groups[host["name"]]:
                members.setdefault(group, []).append(host["name"])
        lines = ["---\n"]
        groups = self.groups
        if only_groups is not None:
            position = self.group_position
            groups = [groups[i] for i in sorted(position[name] for name in only_groups)]
        for name, priority, children in groups:
            body = []
            if priority is not None:
                body.append("  vars:\n    %s: %d\n" % (PRIORITY_VAR, priority))
            kids = [c for c in children if only_groups is None or c in only_groups]
            if kids:
                body.append("  children:\n")
                body.extend("    %s:\n" % _key(c) for c in kids)
            if name in members:
                body.append("  hosts:\n")
                body.extend("    %s:\n" % _key(h) for h in members[name])
            lines.append("%s:%s" % (_key(name), "\n" if body else " {}\n"))
            lines.extend(body)
        return "".join(lines).encode("utf-8")


def _entries(plan, per_host):
    """(path, mode, content or None for a directory) of the bundle, sorted by path."""
    if per_host:
        units = []
        for host in plan.hosts:
            groups = plan.closure(plan.host_groups[host["name"]])
            units.append((host["name"] + "/", [host], groups))
    else:
        units = [("", plan.hosts, None)]
    listing = []
    for prefix, hosts, groups in units:
        if prefix:
            listing.append((prefix.rstrip("/"), DIR_MODE, None))
        listing.append((prefix + HOSTS_FILE, FILE_MODE, lambda h=hosts, g=groups: plan.hosts_file(h, g)))
        # (the order does not matter here: the listing is sorted by path below)
        group_files = [name for name in (plan.group_vars if groups is None else groups) if name in plan.group_vars]
        if group_files:
            listing.append((prefix + "group_vars", DIR_MODE, None))
            for name in group_files:
                listing.append((prefix + "group_vars/%s.yml" % name, FILE_MODE,
                                lambda n=name: plan.group_file(n)))
        with_vars = [h for h in hosts if h["vars"] or h["well_known"] or h["name"] in plan.secret_vars]
        if with_vars:
            listing.append((prefix + "host_vars", DIR_MODE, None))
            for host in with_vars:
                listing.append((prefix + "host_vars/%s.yml" % host["name"], FILE_MODE,
                                lambda h=host: _dump_vars(plan.host_vars(h))))
        secret_hosts = [h["name"] for h in hosts if h["name"] in plan.secrets]
        if secret_hosts:
            listing.append((prefix + SECRETS_DIR, SECRET_DIR_MODE, None))
            for name in secret_hosts:
                directory = "%s%s/%s" % (prefix, SECRETS_DIR, plan.secret_dirs[name])
                listing.append((directory, SECRET_DIR_MODE, None))
                for file_name, plaintext in plan.secrets[name]:
                    listing.append(("%s/%s" % (directory, file_name), SECRET_MODE, plaintext))
    listing.sort(key=lambda item: item[0].split("/"))
    for path, mode, content in listing:
        if callable(content):
            content = content()
        yield path, mode, content


class _Buffer:
    """A write-only, non-seekable sink whose content is taken out chunk by chunk.

    Non-seekable on purpose: zipfile then always streams (data descriptors), so
    the bytes do not depend on whether the final target can seek."""

    def __init__(self):
        self._chunks = []

    def write(self, data):
        if data:
            self._chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self._chunks)
        self._chunks = []
        return data


def _tarfile_header(path, mode, size):
    """The tar header block(s) of an entry made by tarfile (GNU format: a long name gets a
    LongLink entry first)."""
    info = tarfile.TarInfo(path)
    info.mtime = TAR_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = mode
    if size is None:
        info.type = tarfile.DIRTYPE
    else:
        info.size = size
    return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "strict")


_HEADER_TAIL = b"ustar  \0root".ljust(40, b"\0") + b"root".ljust(32, b"\0") + b"\0" * 183
_OWNER = b"0000000\0" * 2


def _tar_header(path, mode, size):
    """The same bytes as :func:`_tarfile_header`, built directly for the common case (a name of
    at most 100 bytes, a size below 8 GiB): tarfile's per-header work is most of the time of a
    per-host bundle. The tests compare both."""
    name = (path if size is not None else path + "/").encode("utf-8")
    if len(name) > 100 or (size is not None and size >= 8 ** 11):
        return _tarfile_header(path, mode, size)
    head = b"".join((name.ljust(100, b"\0"), b"%07o\0" % mode, _OWNER, b"%011o\0" % (size or 0),
                     b"%011o\0" % TAR_MTIME))
    kind = b"5" if size is None else b"0"
    checksum = sum(head) + 8 * 32 + kind[0] + sum(_HEADER_TAIL)
    return b"".join((head, b"%06o\0 " % checksum, kind, b"\0" * 100, _HEADER_TAIL))


def _tgz_chunks(entries, level):
    """A gzip-compressed tar stream (what tarfile writes, without its per-member overhead)."""
    sink = _Buffer()
    gz = gzip.GzipFile(filename="", mode="wb", compresslevel=level, fileobj=sink, mtime=0)
    written = 0
    pending = []
    for path, mode, content in entries:
        if content is None:
            pending.append(_tar_header(path, mode, None))
        else:
            pending.append(_tar_header(path, mode, len(content)))
            pending.append(content)
            rest = len(content) % tarfile.BLOCKSIZE
            if rest:
                pending.append(tarfile.NUL * (tarfile.BLOCKSIZE - rest))
        if len(pending) > 256:
            data = b"".join(pending)
            pending = []
            written += len(data)
            gz.write(data)
            chunk = sink.take()
            if chunk:
                yield chunk
    # The end of the archive: two zero blocks, then zeros up to a whole record (as tarfile does).
    written += sum(len(p) for p in pending) + 2 * tarfile.BLOCKSIZE
    pending.append(tarfile.NUL * (2 * tarfile.BLOCKSIZE))
    rest = written % tarfile.RECORDSIZE
    if rest:
        pending.append(tarfile.NUL * (tarfile.RECORDSIZE - rest))
    gz.write(b"".join(pending))
    gz.close()
    yield sink.take()


def _zip_chunks(entries, level):
    sink = _Buffer()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=level)
    for path, mode, content in entries:
        if content is None:
            info = zipfile.ZipInfo(path + "/", date_time=ZIP_DATE)
            info.external_attr = ((stat.S_IFDIR | mode) << 16) | 0x10
            info.compress_type = zipfile.ZIP_STORED
            content = b""
        else:
            info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3  # Unix, so that the modes apply when extracted
        archive.writestr(info, content, compresslevel=level)
        chunk = sink.take()
        if chunk:
            yield chunk
    archive.close()
    yield sink.take()


def check_format(fmt):
    """Return ``fmt`` if it is a bundle format, else raise CratonError."""
    if fmt not in FORMATS:
        raise CratonError("unknown bundle format %r: use %s" % (fmt, " or ".join(FORMATS)))
    return fmt


def iter_bundle(inventory, fmt="tgz", per_host=False, decrypt=None, level=GZIP_LEVEL, **prepare_options):
    """The archive of ``inventory`` as an iterator of byte chunks (for streaming responses).

    ``inventory``: the result of ``load_inventory`` (with ``with_secrets=True`` for
    secret files); it is completed with :func:`prepare` (``prepare_options`` are its
    keywords). ``decrypt(ciphertext, what) -> bytes`` decrypts a secret (default
    ``secret_store.decrypt``). Every check runs and every secret is decrypted when
    this function is called, before the first chunk: a CratonError raised here
    means no byte was produced."""
    check_format(fmt)
    _require_yaml()
    if decrypt is None:
        from ansible_collections.craton.fleet.plugins.module_utils import secret_store
        decrypt = secret_store.decrypt
    prepare(inventory, **prepare_options)
    plan = _Plan(inventory, decrypt)
    chunks = _tgz_chunks if fmt == "tgz" else _zip_chunks
    return chunks(_entries(plan, per_host), level)


def write_bundle(inventory, fileobj, fmt="tgz", per_host=False, decrypt=None, level=GZIP_LEVEL,
                 **prepare_options):
    """Write the archive of ``inventory`` to the binary file object ``fileobj``.

    See :func:`iter_bundle` for the arguments. Returns a summary:
    {"format", "per_host", "hosts", "bytes", "warnings"}."""
    written = 0
    for chunk in iter_bundle(inventory, fmt, per_host, decrypt, level, **prepare_options):
        if chunk:
            fileobj.write(chunk)
            written += len(chunk)
    return {"format": fmt, "per_host": bool(per_host), "hosts": len(inventory["hosts"]),
            "bytes": written, "warnings": list(inventory.get("warnings", ()))}


def load_for_bundle(url_or_engine, filters=None, strict=True, secrets=True, allow_empty=False):
    """``load_inventory`` for a bundle: one read transaction on a URL or an Engine.

    ``strict``: an unknown tenant, region or group is NotFound. Without
    ``allow_empty``, no selected host is NotFound too."""
    from ansible_collections.craton.fleet.plugins.module_utils import db
    from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import load_inventory

    if url_or_engine is None or isinstance(url_or_engine, str):
        with db.transaction(url_or_engine) as session:
            inventory = load_inventory(session, filters, strict=strict, with_secrets=secrets)
    else:
        from sqlalchemy import exc as sa_exc  # pylint: disable=import-outside-toplevel
        from sqlalchemy.orm import Session  # pylint: disable=import-outside-toplevel
        try:
            with Session(url_or_engine) as session:
                with session.begin():
                    inventory = load_inventory(session, filters, strict=strict, with_secrets=secrets)
        except sa_exc.DBAPIError as e:
            raise db.unreachable(url_or_engine, e) from None
    if not inventory["hosts"] and not allow_empty:
        raise NotFound("no host matches the filters%s" % _describe(filters))
    return inventory


def _describe(filters):
    shown = ["%s=%s" % (k, v) for k, v in sorted((filters or {}).items())
             if v not in (None, [], {}) and k != "active_only"]
    if filters and filters.get("active_only") is False:
        shown.append("inactive hosts included")
    return " (%s)" % ", ".join(shown) if shown else ""


def export_bundle(url_or_engine, filters, fileobj, fmt="tgz", per_host=False, strict=True, secrets=True,
                  allow_empty=False, decrypt=None, **prepare_options):
    """Open the database, load the inventory for ``filters`` and write its archive to ``fileobj``.

    ``url_or_engine``: a database URL (None: the configured default) or a
    SQLAlchemy Engine. ``filters``: as ``inventory_query.check_filters``.
    ``secrets``: include the secret files (needs the secret key). Raises
    CratonError before writing anything when the filters name something unknown
    or select no host (unless ``allow_empty``). Returns :func:`write_bundle`'s summary."""
    check_format(fmt)
    inventory = load_for_bundle(url_or_engine, filters, strict=strict, secrets=secrets, allow_empty=allow_empty)
    return write_bundle(inventory, fileobj, fmt, per_host, decrypt, **prepare_options)
