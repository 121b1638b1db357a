"""Helpers for the bundle tests: extract archives as a user would, read them back, and put the
plugin's and a bundle's ``ansible-inventory --list`` side by side."""

from __future__ import annotations

import copy
import io
import os
import shutil
import stat
import subprocess
import tarfile
import zipfile

SECRET_VARS = ("craton_secret_files", "ansible_ssh_private_key_file")


def extract(archive, directory, fmt):
    """Extract ``archive`` (bytes) into ``directory`` as a user would, with the real tools:
    ``tar -xzf`` and ``unzip`` (both apply the modes in the archive; Python's zipfile does not,
    and tarfile's ``data`` filter ignores directory modes)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "..", os.path.basename(directory) + "." + fmt)
    with open(path, "wb") as f:
        f.write(archive)
    if fmt == "tgz":
        subprocess.run(["tar", "-xzf", path, "-C", directory], check=True)
    elif shutil.which("unzip"):
        subprocess.run(["unzip", "-q", path, "-d", directory], check=True)
    else:  # pragma: no cover - unzip is installed where the suite runs
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                z.extract(info, directory)
                os.chmod(os.path.join(directory, info.filename), (info.external_attr >> 16) & 0o777)
    os.unlink(path)
    return directory


def tree(directory):
    """{relative path: (mode, content or None for directories)} of everything under ``directory``."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, directory)
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if name in dirs:
                out[rel] = (mode, None)
            else:
                with open(path, "rb") as f:
                    out[rel] = (mode, f.read())
    return out


def members(archive, fmt):
    """[(name, mode, mtime or date_time, owner)] of an archive, in archive order."""
    if fmt == "tgz":
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            return [(m.name, m.mode, m.mtime, (m.uid, m.gid, m.uname, m.gname)) for m in tar.getmembers()]
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return [(i.filename.rstrip("/"), (i.external_attr >> 16) & 0o7777, i.date_time, i.create_system)
                for i in z.infolist()]


def secret_names(hostvars):
    """A host's secret variables with each path replaced by the name of the secret it points at."""
    files = hostvars.get("craton_secret_files")
    if not files:
        return {}
    by_path = {path: name for name, path in files.items()}
    out = {"craton_secret_files": sorted(files)}
    if "ansible_ssh_private_key_file" in hostvars:
        out["ansible_ssh_private_key_file"] = by_path[hostvars["ansible_ssh_private_key_file"]]
    return out


def without_secret_paths(listing):
    """``listing`` with the secret variables of every host reduced to the names of the secrets
    (the only expected difference: the plugin writes the files to a private directory for the
    run, a bundle holds them under ``{{ inventory_dir }}/.secrets/``)."""
    listing = copy.deepcopy(listing)
    for hostvars in listing.get("_meta", {}).get("hostvars", {}).values():
        names = secret_names(hostvars)
        for key in SECRET_VARS:
            hostvars.pop(key, None)
        hostvars.update(names)
    return listing
