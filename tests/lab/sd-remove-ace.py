#!/usr/bin/python3
"""Removes every explicit ACE for one trustee SID from an AD object's DACL.

usage: sd-remove-ace.py SMB_CONF OBJECT_DN SID

samba-tool dsacl (Samba 4.17) can add ACEs but not remove them; the lab's
enroll-missing fault needs to take the setup server's Enroll grant away again.
Runs against the DC's sam.ldb through Samba's own Python bindings (so it needs
/usr/bin/python3, where Debian installs them), with the system session; the
running Samba sees the change at once.
"""
import re
import sys

import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

smbconf, dn, sid = sys.argv[1:4]
lp = LoadParm()
lp.load(smbconf)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
domain_sid = security.dom_sid(db.get_domain_sid())
res = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"])
sddl = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0]).as_sddl(domain_sid)
# Work on the SDDL text: each ACE is "(type;flags;rights;object;inherited object;trustee)".
head, _, dacl = sddl.partition("D:")
flags = re.match(r"[A-Z]*", dacl).group(0)
aces = re.findall(r"\([^()]*\)", dacl)
kept = [a for a in aces if not a.endswith(";" + sid + ")")]
new = security.descriptor.from_sddl(head + "D:" + flags + "".join(kept), domain_sid)
msg = ldb.Message()
msg.dn = ldb.Dn(db, dn)
msg["nTSecurityDescriptor"] = ldb.MessageElement(ndr_pack(new), ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
db.modify(msg)
print("removed %d ACE(s) for %s from %s" % (len(aces) - len(kept), sid, dn))
