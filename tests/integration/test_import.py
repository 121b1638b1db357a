"""`craton import`: re-import in place, --prune, one transaction, where values are stored,
trust, warnings and the progress bar. Real `craton` processes on SQLite and MariaDB."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from ansible_collections.craton.fleet.plugins.module_utils import db, fleet
from ansible_collections.craton.fleet.plugins.module_utils.models import (
    Group, GroupChild, GroupHost, GroupVariable, Host, HostVariable, Region, Tenant, TenantVariable)

from import_helpers import dump, fleet_config, source_path
from inventory_helpers import playbook

V1 = """\
web1 ansible_host=10.0.0.1 color=red
web2 ansible_host=10.0.0.2
web3

[web]
web1
web2
web3

[old-group]
web2

[web:vars]
http_port=80
keep_me=yes

[all:vars]
site=one
"""

V2 = """\
web1 ansible_host=10.0.0.11 color=blue
web2 ansible_host="{{ inventory_hostname }}.lan"
web4 ansible_user=deploy

[web]
web1
web2
web4

[new-group]
web2

[web:vars]
http_port=8080
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def state(url, tenant="t"):
    """The tenant as plain data: ids and values, to compare before/after."""
    engine = db.engine_for(url)
    with engine.connect() as conn:
        tid = conn.scalar(sa.select(Tenant.id).where(Tenant.name == tenant))
        hosts = {r.name: r for r in conn.execute(sa.select(Host).where(Host.tenant_id == tid))}
        groups = dict(conn.execute(sa.select(Group.name, Group.id).where(Group.tenant_id == tid)).all())
        names = {gid: name for name, gid in groups.items()}
        host_names = {h.id: name for name, h in hosts.items()}
        members = {(names[g], host_names[h]) for g, h in conn.execute(
            sa.select(GroupHost.group_id, GroupHost.host_id).where(GroupHost.group_id.in_(list(names) or [-1])))}
        children = {(names[p], names[c]) for p, c in conn.execute(
            sa.select(GroupChild.parent_id, GroupChild.child_id).where(GroupChild.parent_id.in_(list(names) or [-1])))}
        host_vars = {(host_names[r.host_id], r.key): (r.id, r.value, r.trusted) for r in conn.execute(
            sa.select(HostVariable).where(HostVariable.host_id.in_(list(host_names) or [-1])))}
        group_vars = {(names[r.group_id], r.key): (r.id, r.value, r.trusted) for r in conn.execute(
            sa.select(GroupVariable).where(GroupVariable.group_id.in_(list(names) or [-1])))}
        tenant_vars = {r.key: (r.id, r.value, r.trusted) for r in conn.execute(
            sa.select(TenantVariable).where(TenantVariable.tenant_id == tid))}
        regions = dict(conn.execute(sa.select(Region.id, Region.name).where(Region.tenant_id == tid)).all())
    return {"tenant_id": tid, "hosts": hosts, "groups": groups, "members": members, "children": children,
            "host_vars": host_vars, "group_vars": group_vars, "tenant_vars": tenant_vars, "regions": regions}


def values(variables):
    return {key: entry[1] for key, entry in variables.items()}


def test_reimport_updates_in_place_and_removes_nothing_without_prune(fleet_url, run_craton, tmp_path):
    run_craton("import", write(tmp_path, "v1.ini", V1), "--tenant", "t", "--database-url", fleet_url)
    before = state(fleet_url)
    proc = run_craton("import", write(tmp_path, "v2.ini", V2), "--tenant", "t", "--database-url", fleet_url)
    after = state(fleet_url)

    # Same rows for what both versions have; the changed variable row is updated, not replaced.
    for name in ("web1", "web2"):
        assert after["hosts"][name].id == before["hosts"][name].id
    assert after["groups"]["web"] == before["groups"]["web"]
    assert after["host_vars"][("web1", "color")][0] == before["host_vars"][("web1", "color")][0]
    assert after["host_vars"][("web1", "color")][1] == "blue"
    assert after["group_vars"][("web", "http_port")][0] == before["group_vars"][("web", "http_port")][0]
    assert after["group_vars"][("web", "http_port")][1] == 8080
    assert after["hosts"]["web1"].ip_address == "10.0.0.11"
    # A template cannot live in the ip_address column: it moves to a host variable, once.
    assert after["hosts"]["web2"].ip_address is None
    assert after["host_vars"][("web2", "ansible_host")][1] == "{{ inventory_hostname }}.lan"
    assert after["hosts"]["web4"].user == "deploy"
    # Nothing the source lost is removed without --prune.
    assert "web3" in after["hosts"] and "old-group" in after["groups"]
    assert {("old-group", "web2"), ("new-group", "web2"), ("web", "web3")} <= after["members"]
    assert values(after["group_vars"])[("web", "keep_me")] == "yes"
    assert values(after["tenant_vars"]) == {"site": "one"}
    assert "hosts           1 added, 2 updated, 0 removed, 0 unchanged" in proc.stdout


def test_prune_makes_the_tenant_mirror_the_source(fleet_url, run_craton, tmp_path):
    run_craton("import", write(tmp_path, "v1.ini", V1), "--tenant", "t", "--database-url", fleet_url)
    run_craton("import", write(tmp_path, "v1.ini", V1), "--tenant", "other", "--database-url", fleet_url)
    other_before = state(fleet_url, "other")
    before = state(fleet_url)
    proc = run_craton("import", write(tmp_path, "v2.ini", V2), "--tenant", "t", "--prune",
                      "--database-url", fleet_url)
    after = state(fleet_url)
    assert sorted(after["hosts"]) == ["web1", "web2", "web4"]
    assert after["hosts"]["web1"].id == before["hosts"]["web1"].id
    assert sorted(after["groups"]) == ["new-group", "web"]
    assert after["members"] == {("web", "web1"), ("web", "web2"), ("web", "web4"), ("new-group", "web2")}
    assert values(after["group_vars"]) == {("web", "http_port"): 8080}
    assert values(after["tenant_vars"]) == {}
    assert values(after["host_vars"]) == {("web1", "color"): "blue",
                                          ("web2", "ansible_host"): "{{ inventory_hostname }}.lan"}
    assert "(pruned)" in proc.stdout and "hosts           1 added, 2 updated, 1 removed" in proc.stdout
    # --prune stays inside the tenant.
    assert state(fleet_url, "other")["host_vars"] == other_before["host_vars"]
    assert sorted(state(fleet_url, "other")["hosts"]) == ["web1", "web2", "web3"]


def test_prune_clears_a_well_known_column_the_source_dropped(fleet_url, run_craton, tmp_path):
    run_craton("import", write(tmp_path, "a.ini", "h1 ansible_host=192.0.2.1 ansible_port=2222\n"),
               "--tenant", "t", "--database-url", fleet_url)
    assert (state(fleet_url)["hosts"]["h1"].ip_address, state(fleet_url)["hosts"]["h1"].port) == ("192.0.2.1", 2222)
    run_craton("import", write(tmp_path, "b.ini", "h1 ansible_port=2222\n"), "--tenant", "t",
               "--database-url", fleet_url)
    assert state(fleet_url)["hosts"]["h1"].ip_address == "192.0.2.1"  # kept without --prune
    run_craton("import", write(tmp_path, "b.ini", "h1 ansible_port=2222\n"), "--tenant", "t", "--prune",
               "--database-url", fleet_url)
    host = state(fleet_url)["hosts"]["h1"]
    assert (host.ip_address, host.port) == (None, 2222)


def test_a_failed_import_writes_nothing(fleet_url, run_craton, tmp_path):
    """The cycle is only found after hosts, groups and members were written in the
    transaction: the rollback must take all of it back."""
    run_craton("import", write(tmp_path, "a.ini", "[p:children]\nc\n[c]\nh1\n[all:vars]\nx=1\n"),
               "--tenant", "t", "--database-url", fleet_url)
    before = dump(fleet_url)
    cyclic = "[c:children]\np\n[p]\nnew-host\n[c]\nother-new-host\n[all:vars]\nx=2\n"
    proc = run_craton("import", write(tmp_path, "b.ini", cyclic), "--tenant", "t", "--database-url", fleet_url,
                      check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("craton: error: the import would make a group cycle")
    assert "p -> c -> p" in proc.stderr or "c -> p -> c" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert dump(fleet_url) == before
    # With --prune the source's links replace the tenant's: no cycle.
    run_craton("import", str(tmp_path / "b.ini"), "--tenant", "t", "--prune", "--database-url", fleet_url)
    assert state(fleet_url)["children"] == {("c", "p")}


def test_tenant_and_region_are_created_and_said(fleet_url, run_craton, tmp_path):
    source = write(tmp_path, "a.ini", "h1\nh2\n")
    proc = run_craton("import", source, "--tenant", "new-t", "--region", "eu", "--database-url", fleet_url)
    assert "created tenant 'new-t'" in proc.stdout and "created region 'eu' in tenant 'new-t'" in proc.stdout
    s = state(fleet_url, "new-t")
    assert {h.region_id for h in s["hosts"].values()} == set(s["regions"])
    proc = run_craton("import", source, "--tenant", "new-t", "--region", "us", "--database-url", fleet_url)
    assert "created tenant" not in proc.stdout and "created region 'us'" in proc.stdout
    s = state(fleet_url, "new-t")
    assert {s["regions"][h.region_id] for h in s["hosts"].values()} == {"us"}
    run_craton("import", source, "--tenant", "new-t", "--database-url", fleet_url)  # no --region: hosts stay
    s = state(fleet_url, "new-t")
    assert {s["regions"][h.region_id] for h in s["hosts"].values()} == {"us"}


def test_levels_are_stored_as_ansible_defines_them(fleet_url, run_craton, tmp_path):
    """`all` vars are tenant vars; group vars (inventory + group_vars/) on the group;
    host vars (inventory + host_vars/) on the host; not merged across levels."""
    run_craton("import", source_path("ini_nested/hosts.ini"), "--tenant", "t", "--database-url", fleet_url)
    s = state(fleet_url)
    assert values(s["tenant_vars"]) == {
        "ansible_python_interpreter": "/usr/bin/python3", "env": "unknown", "dns_domain": "example.com",
        "timezone": "UTC", "motd": "Welcome to {{ inventory_hostname }}"}
    group_vars = values(s["group_vars"])
    assert group_vars[("web-canary", "canary")] is True
    assert group_vars[("web-canary", "canary_weight")] == 0.05
    assert group_vars[("databases", "postgres")] == {
        "version": 16, "settings": {"shared_buffers": "4GB", "max_connections": 300}}
    assert group_vars[("production", "ntp_servers")] == ["0.pool.ntp.org", "1.pool.ntp.org"]
    assert ("web", "env") not in group_vars and ("web01.example.com", "env") not in values(s["host_vars"])
    host_vars = values(s["host_vars"])
    assert host_vars[("web01.example.com", "http_port")] == 9000
    assert host_vars[("app7", "ansible_host")] == "{{ inventory_hostname }}.internal"
    # host_vars/db1.yml overrides the inventory's port, and the column holds the result.
    db1 = s["hosts"]["db1"]
    assert (db1.ip_address, db1.port, db1.connection) == ("10.0.3.1", 6432, "ssh")
    assert not [key for (host, key) in host_vars if host == "db1" and key.startswith("ansible_")]
    assert ("eu-west-1", "frontend") in s["children"] and ("everything", "monitoring") in s["children"]
    assert len(s["hosts"]) == 33 and "lonely-host" in s["hosts"]
    assert all(entry[2] for part in ("tenant_vars", "group_vars", "host_vars") for entry in s[part].values())


def test_dead_inventory_values_are_reported_and_not_imported(fleet_url, run_craton, tmp_path):
    """group_vars/eu-west-1.yml sets `tier` for every host of web and databases: their
    inventory-file `tier` is never used by Ansible."""
    proc = run_craton("import", source_path("ini_nested/hosts.ini"), "--tenant", "t", "--database-url", fleet_url)
    assert ("craton: warning: variable 'tier' of groups 'web', 'databases' not imported" in proc.stderr
            or "craton: warning: variable 'tier' of groups 'databases', 'web' not imported" in proc.stderr)
    group_vars = values(state(fleet_url)["group_vars"])
    assert ("web", "tier") not in group_vars and group_vars[("eu-west-1", "tier")] == "regional"


def test_imported_values_are_trusted_again_on_reimport(fleet_url, run_craton, tmp_path):
    source = write(tmp_path, "a.ini", "h1 greeting=hi\n")
    run_craton("import", source, "--tenant", "t", "--database-url", fleet_url)

    def untrust(session):
        host = fleet.get_host(session, fleet.get_tenant(session, "t"), "h1")
        fleet.set_variables(session, "host", host.id, {"greeting": "hi"}, trusted=False)
    db.run_in_transaction(db.connect(fleet_url), untrust)
    assert state(fleet_url)["host_vars"][("h1", "greeting")][2] is False
    run_craton("import", source, "--tenant", "t", "--database-url", fleet_url)
    assert state(fleet_url)["host_vars"][("h1", "greeting")][2] is True


def test_imported_templates_render_in_a_play(fleet_url, run_craton, craton_env, tmp_path):
    run_craton("import", source_path("ini_nested"), "--tenant", "t", "--database-url", fleet_url)
    config = fleet_config(tmp_path, fleet_url, "t")
    proc = playbook(tmp_path, config, textwrap.dedent("""\
        - hosts: web01.example.com,app7
          gather_facts: false
          tasks:
            - ansible.builtin.debug:
                msg: "motd={{ motd }} host={{ ansible_host }}"
        """), craton_env)
    assert "motd=Welcome to web01.example.com host=web01.example.com" in proc.stdout
    assert "motd=Welcome to app7 host=app7.internal" in proc.stdout


def test_progress_bar_only_on_a_terminal(fleet_url, craton_env, run_craton, tmp_path):
    source = source_path("yaml_types/inventory.yml")
    piped = run_craton("import", source, "--tenant", "t", "--database-url", fleet_url)
    assert "\r" not in piped.stderr and "[#" not in piped.stderr
    main_fd, child_fd = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "ansible_collections.craton.fleet.cli", "import", source,
                               "--tenant", "t2", "--database-url", fleet_url],
                              stdout=subprocess.PIPE, stderr=child_fd, env=craton_env, timeout=300, check=False)
        os.close(child_fd)
        child_fd = None
        chunks = []
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main_fd)
        if child_fd is not None:
            os.close(child_fd)
    terminal = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "reading hosts" in terminal and "100% 13/13" in terminal and "writing variables" in terminal
    assert "imported into tenant 't2'" in proc.stdout.decode()


def test_a_group_vars_file_overriding_part_of_a_group_is_warned(fleet_url, run_craton, tmp_path):
    """Ansible lets group_vars/b.yml beat z's inventory value for h1 (in both), although
    z sorts after b; one value per level cannot say that, so the import says it."""
    source = tmp_path / "inv"
    (source / "group_vars").mkdir(parents=True)
    (source / "hosts.ini").write_text("[b]\nh1\nh2\n[z]\nh1\nh3\n[z:vars]\nx=inventory\n")
    (source / "group_vars" / "b.yml").write_text("x: group_vars\n")
    proc = run_craton("import", source, "--tenant", "t", "--database-url", fleet_url)
    assert ("craton: warning: variable 'x': for the hosts in both 'z' and 'b' ('h1') Ansible uses the value "
            "of the group_vars file of 'b', craton.fleet the inventory value of 'z'") in proc.stderr
    assert values(state(fleet_url)["group_vars"]) == {("b", "x"): "group_vars", ("z", "x"): "inventory"}
