#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""craton.fleet.secret: manage a secret of a host, encrypted at rest."""

from __future__ import annotations

DOCUMENTATION = r"""
module: secret
short_description: Manage a secret of a host in the craton.fleet inventory
version_added: 0.1.0
description:
  - Stores, replaces, renames and removes a secret (a PEM key or certificate, an SSH private key, an opaque
    blob) of a host. The value is encrypted at rest with the craton secret key of the controller
    (E(CRATON_SECRET_KEY), E(CRATON_SECRET_KEY_FILE) or C(~/.config/craton/secret.key); see C(craton key generate)).
  - The value is validated for its O(kind) before anything is written; a V(pem), V(ssh_private_key) or
    V(certificate) that does not parse is refused.
  - The value is never returned, logged or shown in a diff. Idempotency compares it with the stored value
    after decryption, so the key must be configured even to check.
  - The module is idempotent; it supports check mode and diff mode. One task is one database transaction.
author:
  - craton.fleet contributors (@craton-fleet)
options:
  tenant:
    description:
      - Name of the tenant of the host. It must exist.
    type: str
    required: true
  host:
    description:
      - Name of the host the secret belongs to. It must exist in the tenant.
    type: str
    required: true
  name:
    description:
      - Name of the secret, unique per host.
    type: str
    required: true
  new_name:
    description:
      - Rename the secret to this name (O(kind) and O(data) are still required with O(state=present)).
      - When O(name) does not exist but O(new_name) does, the secret counts as already renamed.
      - Fails if both exist. Not allowed with O(state=absent).
    type: str
  kind:
    description:
      - What the secret is. V(pem) is any PEM private or public key, certificate or CSR; V(ssh_private_key) an
        OpenSSH or PEM private key without passphrase; V(certificate) one or more PEM X.509 certificates; V(opaque)
        anything.
      - Required with O(state=present).
    type: str
    choices: [pem, ssh_private_key, certificate, opaque]
  data:
    description:
      - The secret value. Required with O(state=present).
    type: str
  state:
    description:
      - V(present) stores the secret (or replaces its value); V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - craton.fleet.database.modules
  - craton.fleet.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.actiongroups
seealso:
  - module: craton.fleet.host
"""

EXAMPLES = r"""
- name: The deploy key of db01
  craton.fleet.secret:
    tenant: acme
    host: db01
    name: deploy_key
    kind: ssh_private_key
    data: "{{ lookup('ansible.builtin.file', 'keys/db01_deploy') }}"

- name: Its TLS certificate
  craton.fleet.secret:
    tenant: acme
    host: db01
    name: tls_cert
    kind: certificate
    data: "{{ lookup('ansible.builtin.file', 'pki/db01.crt') }}"

- name: Remove a secret
  craton.fleet.secret:
    tenant: acme
    host: db01
    name: old_key
    state: absent
"""

RETURN = r"""
secret:
  description: The secret after the task, without its value; empty when it is absent.
  returned: always
  type: dict
  contains:
    tenant:
      description: Name of the tenant.
      type: str
      sample: acme
    host:
      description: Name of the host.
      type: str
      sample: db01
    name:
      description: Name of the secret.
      type: str
      sample: deploy_key
    kind:
      description: Kind of the secret.
      type: str
      sample: ssh_private_key
diff:
  description: With C(--diff), the changed fields before and after; the value shows as C(********).
  returned: changed and diff mode
  type: dict
"""

from ansible_collections.craton.fleet.plugins.module_utils.fleet_module import FleetModule, state_argument_spec
from ansible_collections.craton.fleet.plugins.module_utils.names import SECRET_KINDS
from ansible_collections.craton.fleet.plugins.module_utils.secret_resource import SecretResource


def main():
    """Run the module."""
    spec = dict(tenant=dict(type="str", required=True), host=dict(type="str", required=True),
                name=dict(type="str", required=True), new_name=dict(type="str"),
                kind=dict(type="str", choices=list(SECRET_KINDS)), data=dict(type="str", no_log=True))
    spec.update(state_argument_spec())
    FleetModule(argument_spec=spec, required_if=[("state", "present", ("kind", "data"))]).run(SecretResource)


if __name__ == "__main__":
    main()
