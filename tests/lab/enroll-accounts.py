#!/usr/bin/python3
"""Creates the lab's enrolling accounts and groups in one process.

usage: enroll-accounts.py SMB_CONF PASSWORD_FILE OUT_DIR

The same operations as `samba-tool computer create` / `user create` / `group add` /
`group addmembers` (they call these SamDB methods), on the DC's sam.ldb, in one
Python process: eleven samba-tool runs would add seconds of interpreter start-up to
every lab bring-up. Writes each principal's SID to OUT_DIR/<name>.sid.
Needs /usr/bin/python3, where Debian installs Samba's bindings.
"""
import os
import sys

import ldb
from samba.auth import system_session
from samba.ndr import ndr_unpack
from samba.dcerpc import security
from samba.param import LoadParm
from samba.samdb import SamDB

smbconf, pwfile, out = sys.argv[1:4]
with open(pwfile) as f:
    pw = f.read().strip()
lp = LoadParm()
lp.load(smbconf)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)

db.newcomputer("SCS01", description="setup and configuration server (lab)")
for user in ("scsuser", "scsdenied", "scsnone"):
    db.newuser(user, pw)
for group in ("AMT-Enrollers", "AMT-Provisioners"):
    db.newgroup(group)
db.add_remove_group_members("AMT-Enrollers", ["AMT-Provisioners", "scsdenied"])
db.add_remove_group_members("AMT-Provisioners", ["scsuser"])

for name in ("SCS01$", "AMT-Enrollers", "scsdenied"):
    res = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                    expression="(sAMAccountName=%s)" % ldb.binary_encode(name), attrs=["objectSid"])
    sid = ndr_unpack(security.dom_sid, res[0]["objectSid"][0])
    with open(os.path.join(out, name.rstrip("$") + ".sid"), "w") as f:
        f.write(str(sid) + "\n")
