# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.inventory: the fleet database as an Ansible inventory."""

from __future__ import annotations

DOCUMENTATION = r"""
name: inventory
short_description: The fleet database (SQLite, MySQL/MariaDB) as an Ansible inventory
version_added: 0.1.0
description:
  - Reads hosts, groups, regions, tenants, their variables and the hosts' secrets from the craton.fleet
    database and gives them to Ansible. The filtered inventory is loaded with a fixed number of set-based
    queries, whatever the size of the fleet.
  - The configuration file name must end in C(craton.yml) or C(craton.yaml), and its O(plugin) option must be
    V(craton.fleet.inventory).
  - B(What Ansible sees.) Every selected host under its name, with its variables; the well-known host
    columns as C(ansible_host) (C(ip_address)), C(ansible_port) (C(port)), C(ansible_user) (C(user)) and
    C(ansible_connection) (C(connection)), which override host variables of the same name. Every user group
    of the loaded tenants with its variables and child groups, and the selected hosts as members.
    The tenant becomes the group C(tenant_<name>) and each region the group C(region_<name>) (see
    O(tenant_group_prefix) and O(region_group_prefix)); in these names every character other than ASCII
    letters, digits and C(_) becomes C(_). Each selected host is a member of its tenant group and of its
    region group. A name taken twice is an error that names both.
  - B(Precedence) is Ansible's own. The tenant and region groups are children of C(all), like top-level
    user groups, with C(ansible_group_priority) -2 (tenant) and -1 (region); user groups keep the default
    priority 1 unless they set C(ansible_group_priority). Ansible merges group variables in the order
    (depth, priority, name), so a variable set at several levels takes the value of the highest of
    tenant < region < top-level user group < child group < grandchild ... < host.
    Within a group, the group's own variables override its vars references. C(craton explain HOST)
    shows where each effective value comes from. See C(docs/precedence.md).
  - B(Templates and trust.) Since ansible-core 2.19 a string from an inventory plugin renders as a template
    only when the plugin marks it trusted. A variable whose C(trusted) flag is true in the database (written
    by C(craton import), the craton.fleet modules or an administrator) is marked trusted, recursively for
    the strings inside lists and mappings, so a C(motd) of C("hello {{ inventory_hostname }}") renders in a play.
    A variable written by an untrusted path (C(trusted) false) is plain data; a template in it is never
    rendered (C(ansible-inventory --list) marks such strings with C(__ansible_unsafe)). Well-known host columns are
    data; their values are marked trusted only when they hold no template syntax (no C({{), C({%) or C({#)), so a
    template in a column never renders. Values from vars references are trusted only with
    O(vars_references_trusted). Secret file paths are data like the columns.
  - B(Secrets.) With O(secrets=files), each secret of a selected host is decrypted (with the key from
    E(CRATON_SECRET_KEY) or the key file) into a file of mode 0600 in a private directory (mode 0700)
    created for the run and removed when the Ansible process ends. The host variable C(craton_secret_files)
    maps each secret name to its file, and C(ansible_ssh_private_key_file) points at the host's
    C(ssh_private_key) secret (the one named C(ssh_private_key) when there are several, else the first by
    name). No secret value ever appears in the inventory, the inventory cache or a log; the cache holds
    secrets only as the ciphertext stored in the database.
  - B(Inventory cache.) The cache stores the loaded data (with resolved vars references), not the Ansible
    objects; trust and secret files are applied again on every run.
author:
  - craton.fleet contributors (@craton-fleet)
requirements:
  - sqlalchemy >= 2.0
  - pymysql (for MySQL/MariaDB)
  - cryptography (when secrets are used)
  - requests (for http(s) vars references and O(api_url))
extends_documentation_fragment:
  - craton.fleet.database
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  api_url:
    description:
      - Read the fleet through the craton.fleet REST API at this URL (C(craton serve)) instead of the database.
        O(database_url) is then not used, and the output is the same as reading the database directly.
      - Secrets (O(secrets=files)) need a token with the editor or admin role; their values come over the
        connection once, are written to files of mode 0600 as usual, and never enter the inventory cache.
    type: str
    env:
      - name: CRATON_API_URL
    version_added: 0.2.0
  api_token:
    description:
      - "The API token (C(craton token create)) used with O(api_url); sent as C(Authorization: Bearer)."
    type: str
    env:
      - name: CRATON_API_TOKEN
    version_added: 0.2.0
  os_cloud:
    description:
      - With O(api_url) and no O(api_token), authenticate with Keystone as this cloud of C(clouds.yaml)
        (the usual places; see docs/openstack.md). The API server must run with C(--keystone-url).
    type: str
    env:
      - name: OS_CLOUD
    version_added: 0.2.0
  keystone_auth:
    description:
      - With O(api_url) and no O(api_token), authenticate with Keystone using these credentials
        (keys C(auth_url), C(username), C(password), C(project_name), C(user_domain_name),
        C(project_domain_name), or C(auth_url), C(application_credential_id), C(application_credential_secret)).
      - Keys left out come from the C(OS_*) variables of an openrc file; with neither O(os_cloud) nor this
        option, C(OS_AUTH_URL) alone turns Keystone on.
    type: dict
    version_added: 0.2.0
  plugin:
    description: The name of this plugin; makes a YAML file a configuration of this plugin.
    required: true
    type: str
    choices: [craton.fleet.inventory]
  tenant:
    description:
      - Load only this tenant. When unset, every tenant is loaded; a host or group name found in two
        tenants is then an error, because Ansible cannot tell them apart.
    type: str
  regions:
    description: Select only the hosts of these regions (names). Only their region groups are created.
    type: list
    elements: str
  groups:
    description:
      - B(A list of group names) selects only the hosts in these groups or in any of their descendant
        groups.
      - B(A mapping) of group name to Jinja2 conditional is the standard constructed feature instead (see
        ansible.builtin.constructed), adding each host for which the conditional is true to that group.
      - The type tells which is meant; a single string is a list of one group name.
    type: raw
    default: null
  hosts:
    description:
      - Select only hosts whose name is in this list. An entry may be a shell-style pattern
        (C(web*), C(db-??), C(node[0-3]*)), matched case-sensitively.
    type: list
    elements: str
  host_vars:
    description:
      - Select only hosts whose own host variables match. A mapping of variable name to the accepted value,
        or to a list of accepted values. Every key must match. Variables inherited from groups, regions and
        tenants are not looked at.
    type: dict
  active_only:
    description: Select only hosts marked active.
    type: bool
    default: true
  reachable:
    description:
      - Filter on the last reachability status written back by runs.
      - V(true) drops the hosts whose last status is C(unreachable) (hosts never reached yet are kept);
        V(false) keeps only them; unset does not filter.
    type: bool
  secrets:
    description:
      - How the hosts' secrets materialise.
      - V(files) writes each to a private file (see the description) and sets C(craton_secret_files) and
        C(ansible_ssh_private_key_file); it needs the secret key when a selected host has secrets.
      - V(skip) does not read secrets at all.
    type: str
    choices: [files, skip]
    default: files
  secrets_dir:
    description:
      - Where the private directory of secret files is created. Default is the system temporary directory
        (E(TMPDIR)).
    type: path
  tenant_group_prefix:
    description: Prefix of the name of the group made from the tenant.
    type: str
    default: tenant_
  region_group_prefix:
    description: Prefix of the names of the groups made from regions.
    type: str
    default: region_
  vars_references_on_error:
    description:
      - What a vars reference that cannot be fetched, does not parse as a YAML mapping, or does not match its
        sha256 does.
      - V(error) fails the inventory with a message naming the group and the URL; V(warn) prints that message
        as a warning and skips the reference.
    type: str
    choices: [error, warn]
    default: error
  vars_references_timeout:
    description: Timeout in seconds of each http(s) request for a vars reference.
    type: float
    default: 10
  vars_references_trusted:
    description:
      - Mark the strings from vars references trusted, so that templates in them render. Only set this when
        everyone who can add a vars reference may run code on the controller.
    type: bool
    default: false
notes:
  - Each URL of a vars reference is fetched once per run; C(file://) URLs are read from the controller's disk.
  - The O(strict) option also decides what an unknown tenant, region or group named in a filter does, an error
    naming it (V(true)), or a warning and no hosts for that name (V(false)).
  - O(compose), O(groups) and O(keyed_groups) see each host's variables merged over its group variables.
seealso:
  - name: Variable precedence in craton.fleet
    description: docs/precedence.md in the collection.
    link: https://github.com/craton-fleet/craton.fleet/blob/main/docs/precedence.md
"""

EXAMPLES = r"""
---
# prod.craton.yml: the hosts of tenant acme in two regions
plugin: craton.fleet.inventory
database_url: mysql+pymysql://ansible:secret@db.example.com/fleet
tenant: acme
regions: [eu-west, eu-central]

---
# Note: "groups" as a list selects hosts; as a mapping it builds constructed groups.
# web.craton.yml: active web hosts tagged for the canary wave, reachable at the last run
plugin: craton.fleet.inventory
tenant: acme
groups: [webservers]
hosts: ["web*"]
host_vars:
  wave: [canary, early]
reachable: true
strict: true

---
# keyed.craton.yml: extra groups from variables, cached for an hour
plugin: craton.fleet.inventory
tenant: acme
keyed_groups:
  - key: os_family
    prefix: os
compose:
  ansible_host: ansible_host | default(inventory_hostname)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/craton-inventory
cache_timeout: 3600
"""

import atexit
import gc
import os
import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.module_utils.parsing.convert_bool import BOOLEANS
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.template import is_trusted_as_template, trust_as_template
from ansible.utils.vars import combine_vars

from ansible_collections.craton.fleet.plugins.module_utils import db
from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError
from ansible_collections.craton.fleet.plugins.module_utils.inventory_query import FILTER_OPTIONS, load_inventory
from ansible_collections.craton.fleet.plugins.module_utils.precedence import (
    REGION_PRIORITY, TENANT_PRIORITY, merged_group_vars, name_groups)
from ansible_collections.craton.fleet.plugins.module_utils.vars_references import (
    ReferenceFetcher, resolve_references)

CONFIG_SUFFIXES = ("craton.yml", "craton.yaml")
_TEMPLATE_MARKERS = re.compile(r"{{|{%|{#")
_BOOL_OPTIONS = ("active_only", "reachable", "strict", "cache", "vars_references_trusted", "use_extra_vars",
                 "leading_separator")
_BOOL_WORDS = {str(v).lower() for v in BOOLEANS}
_FETCHERS = {}


def _shared_trust():
    """A function equal to ``trust_as_template`` for plain strings, sharing one tag mapping.

    ``trust_as_template`` builds a new tag mapping for every string; at a million
    strings that is seconds and hundreds of MB. Tag mappings are immutable, so
    every trusted string can share the one of a sample. Verified at import; falls
    back to ``trust_as_template`` when the internals differ."""
    try:
        sample = trust_as_template("craton")
        tagged_type, mapping = type(sample), sample._ansible_tags_mapping  # pylint: disable=protected-access

        def trust(value):
            tagged = tagged_type(value)
            tagged._ansible_tags_mapping = mapping  # pylint: disable=protected-access
            return tagged

        probe = trust("{{ probe }}")
        if (probe == "{{ probe }}" and type(probe) is type(trust_as_template("{{ probe }}"))
                and is_trusted_as_template(probe) and not is_trusted_as_template("{{ probe }}")
                and dict(probe._ansible_tags_mapping) == dict(trust_as_template("x")._ansible_tags_mapping)):  # pylint: disable=protected-access
            return trust
    except Exception:  # pylint: disable=broad-except
        pass
    return trust_as_template


_trust_str = _shared_trust()


def _trust(value):
    """``value`` with every string inside it marked trusted as a template."""
    kind = type(value)
    if kind is str:
        return _trust_str(value)
    if kind is dict:
        return {k: _trust(v) for k, v in value.items()}
    if kind is list:
        return [_trust(v) for v in value]
    return value


def _data(value):
    """A value that is data (well-known columns, secret file paths): its strings are marked
    trusted only when they hold no template syntax (so they show like a static inventory's
    values); a string with template syntax stays untrusted and never renders."""
    kind = type(value)
    if kind is str:
        return value if _TEMPLATE_MARKERS.search(value) else _trust_str(value)
    if kind is dict:
        return {k: _data(v) for k, v in value.items()}
    return value


def _fetcher(timeout):
    """One reference fetcher (and its cache of URLs) per timeout for the whole run."""
    fetcher = _FETCHERS.get(timeout)
    if fetcher is None:
        fetcher = _FETCHERS[timeout] = ReferenceFetcher(timeout)
    return fetcher


def _without_secret_values(data):
    """A copy of API-read data for the inventory cache: secrets keep their names, not their values."""
    hosts = []
    for host in data["hosts"]:
        if host.get("secrets"):
            host = dict(host, secrets=[{k: v for k, v in secret.items() if k != "data_base64"}
                                       for secret in host["secrets"]])
        hosts.append(host)
    return dict(data, hosts=hosts)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Hosts, groups, regions and tenants from the craton.fleet database."""

    NAME = "craton.fleet.inventory"

    def verify_file(self, path):
        """Accept readable files whose name ends in craton.yml or craton.yaml."""
        return super().verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        self._check_config(config, path)
        # Loading creates millions of objects and no garbage cycles; Python's cyclic
        # collector would walk the growing heap again and again for nothing (a quarter
        # of the CPU time at 100,000 hosts). It is suspended for the load, like
        # Mercurial does around its bulk parsers, and restored afterwards.
        collecting = gc.isenabled()
        gc.disable()
        try:
            data = self._cached_or_loaded(path, cache)
            self._populate(data, consume=not self.get_option("cache"))
        except CratonError as e:
            raise AnsibleError("craton.fleet.inventory (%s): %s" % (path, e)) from None
        finally:
            if collecting:
                gc.enable()

    # --- options ------------------------------------------------------------

    def _check_config(self, config, path):
        unknown = sorted(set(config) - set(self._options) - {"plugin"})
        if unknown:
            raise AnsibleParserError(
                "%s: unknown option%s %s for craton.fleet.inventory; valid options: %s"
                % (path, "s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)),
                   ", ".join(sorted(set(self._options) - {"plugin"}))))
        for name in _BOOL_OPTIONS:
            value = config.get(name)
            if value is not None and not isinstance(value, bool) and str(value).lower() not in _BOOL_WORDS:
                raise AnsibleParserError("%s: option %s must be true or false, not %r" % (path, name, value))
        groups = self.get_option("groups")
        if groups is not None and not isinstance(groups, (str, list, dict)):
            raise AnsibleParserError("%s: option groups must be a list of group names (a filter) or a mapping of "
                                     "group names to conditionals (constructed groups), not %r" % (path, groups))
        host_vars = self.get_option("host_vars")
        if host_vars is not None and not isinstance(host_vars, dict):
            raise AnsibleParserError("%s: option host_vars must be a mapping, not %r" % (path, host_vars))

    def _filters(self):
        filters = {name: self.get_option(name) for name in FILTER_OPTIONS}
        if isinstance(filters["groups"], dict):  # the constructed feature, not the filter
            filters["groups"] = None
        return filters

    def _composed_groups(self):
        groups = self.get_option("groups")
        return groups if isinstance(groups, dict) else None

    # --- loading --------------------------------------------------------------

    def _cached_or_loaded(self, path, cache):
        use_cache = self.get_option("cache")
        key = self.get_cache_key(path)
        if use_cache and cache:
            try:
                data = self._cache[key]
            except KeyError:
                data = None
            if data is not None:
                if self.get_option("api_url"):
                    self._api_secret_values(data)
                return data
        data = self._load()
        if use_cache:
            self._cache[key] = _without_secret_values(data) if self.get_option("api_url") else data
        return data

    def _api(self):
        from ansible_collections.craton.fleet.client import Client, ClientError
        token = self.get_option("api_token")
        keystone = self.get_option("keystone_auth")
        if not token and (keystone or self.get_option("os_cloud") or os.environ.get("OS_AUTH_URL")):
            from ansible_collections.craton.fleet.client.keystone_session import keystone_client
            try:
                return keystone_client(self.get_option("api_url"), cloud=self.get_option("os_cloud"),
                                       **(keystone or {})), ClientError
            except ClientError as e:
                raise CratonError(str(e)) from None
            except TypeError as e:
                raise CratonError("keystone_auth: %s" % e) from None
        if not token:
            raise CratonError("api_url is set but api_token (CRATON_API_TOKEN) is not: create a token with "
                              "craton token create (or give Keystone credentials: os_cloud, keystone_auth)")
        try:
            return Client(self.get_option("api_url"), token), ClientError
        except ClientError as e:
            raise CratonError(str(e)) from None

    def _api_inventory(self, secrets):
        client, client_error = self._api()
        filters = self._filters()
        try:
            return client.inventory.data(
                tenant=filters["tenant"], regions=filters["regions"], groups=filters["groups"],
                hosts=filters["hosts"], host_vars=filters["host_vars"], active_only=filters["active_only"],
                reachable=filters["reachable"], strict=self.get_option("strict"), secrets=secrets)
        except client_error as e:
            raise CratonError("REST API %s: %s" % (self.get_option("api_url"), e)) from None

    def _api_secret_values(self, data):
        """Cached data read through the API holds no secret values: fetch them for this run."""
        if self.get_option("secrets") != "files" or not any(h.get("secrets") for h in data["hosts"]):
            return
        fresh = dict((h["name"], h.get("secrets") or []) for h in self._api_inventory(True)["hosts"])
        for host in data["hosts"]:
            if host.get("secrets"):
                host["secrets"] = fresh.get(host["name"], [])

    def _load(self):
        if self.get_option("api_url"):
            data = self._api_inventory(self.get_option("secrets") == "files")
        else:
            with db.transaction(self.get_option("database_url")) as session:
                data = load_inventory(session, self._filters(), strict=self.get_option("strict"),
                                      with_secrets=self.get_option("secrets") == "files")
        data["warnings"] += resolve_references(
            data, _fetcher(self.get_option("vars_references_timeout")),
            on_error=self.get_option("vars_references_on_error"),
            trusted=self.get_option("vars_references_trusted"))
        name_groups(data, self.get_option("tenant_group_prefix"), self.get_option("region_group_prefix"))
        return data

    def _secret_variables(self, hosts):
        if self.get_option("secrets") != "files" or not any(h.get("secrets") for h in hosts):
            return {}
        from ansible_collections.craton.fleet.plugins.module_utils import secret_files
        directory = secret_files.private_directory(self.get_option("secrets_dir"))
        atexit.register(secret_files.remove_directory, directory)
        return secret_files.write_secret_files(hosts, directory)

    # --- feeding Ansible ------------------------------------------------------

    def _populate(self, data, consume=False):
        """Feed ``data`` to Ansible. ``consume``: drop each host's data once it is fed, so
        the loaded copy and Ansible's do not both peak in memory (not when it is cached)."""
        for warning in data["warnings"]:
            self.display.warning(warning)
        inventory = self.inventory
        add_group, add_child, add_host = inventory.add_group, inventory.add_child, inventory.add_host
        set_variable = inventory.set_variable

        def set_vars(entity, variables, untrusted):
            for key, value in variables.items():
                set_variable(entity, key, value if key in untrusted else _trust(value))

        tenant_groups, region_groups = {}, {}
        for kind, priority, entries, names in (("tenant", TENANT_PRIORITY, data["tenants"], tenant_groups),
                                               ("region", REGION_PRIORITY, data["regions"], region_groups)):
            for entry in entries:
                group = add_group(entry["group"])
                names[(entry.get("tenant"), entry["name"])] = group
                set_vars(group, entry["vars"], set(entry["untrusted"]))
                set_variable(group, "ansible_group_priority", priority)
                add_child("all", group)
        for group in data["groups"]:
            add_group(group["name"])
        for group in data["groups"]:
            variables, untrusted = merged_group_vars(group)
            set_vars(group["name"], variables, untrusted)
            for child in group["children"]:
                add_child(group["name"], child)

        secret_vars = self._secret_variables(data["hosts"])
        trust_str = _trust_str
        hosts = data["hosts"]
        constructing = self.get_option("compose") or self._composed_groups() or self.get_option("keyed_groups")
        host_names = [host["name"] for host in hosts] if constructing else None
        for index, host in enumerate(hosts):
            if consume:
                hosts[index] = None
            name = host["name"]
            add_host(name)
            untrusted = host["untrusted"]
            for key, value in host["vars"].items():
                kind = type(value)
                if key in untrusted:
                    pass
                elif kind is str:
                    value = trust_str(value)
                elif kind is dict or kind is list:
                    value = _trust(value)
                set_variable(name, key, value)
            for key, value in host["well_known"].items():
                set_variable(name, key, _data(value))
            if secret_vars and name in secret_vars:
                for key, value in secret_vars[name].items():
                    set_variable(name, key, _data(value))
            add_child(tenant_groups[(None, host["tenant"])], name)
            region = region_groups.get((host["tenant"], host["region"]))
            if region is not None:
                add_child(region, name)
            for group in host["groups"]:
                add_child(group, name)

        if constructing:
            self._construct(host_names)

    def _construct(self, names):
        strict = self.get_option("strict")
        compose, groups, keyed = (self.get_option("compose"), self._composed_groups(),
                                  self.get_option("keyed_groups"))
        for name in names:
            host = self.inventory.get_host(name)
            variables = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._set_composite_vars(compose, variables, name, strict=strict)
            variables = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._add_host_to_composed_groups(groups, variables, name, strict=strict, fetch_hostvars=False)
            self._add_host_to_keyed_groups(keyed, variables, name, strict=strict, fetch_hostvars=False)
