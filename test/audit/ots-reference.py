"""Reads .ots files with python-opentimestamps, the OpenTimestamps project's own library (Debian package
python3-opentimestamps), and prints what it finds as JSON: the file hash, and every attestation with the
message the timestamp's operations compute for it. Independent of the project's TypeScript reader.
Usage: /usr/bin/python3 ots-reference.py FILE.ots...  (one JSON object per file, one per line)"""
import json
import sys

from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, LitecoinBlockHeaderAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile

for name in sys.argv[1:]:
    out = {"file": name}
    try:
        with open(name, "rb") as f:
            detached = DetachedTimestampFile.deserialize(BytesDeserializationContext(f.read()))
        out["fileHashOp"] = detached.file_hash_op.TAG_NAME
        out["digest"] = detached.file_digest.hex()
        found = []
        for msg, att in detached.timestamp.all_attestations():
            if isinstance(att, BitcoinBlockHeaderAttestation):
                found.append({"kind": "bitcoin", "height": att.height, "msg": msg.hex()})
            elif isinstance(att, LitecoinBlockHeaderAttestation):
                found.append({"kind": "litecoin", "height": att.height, "msg": msg.hex()})
            else:
                found.append({"kind": type(att).__name__, "msg": msg.hex()})
        out["attestations"] = found
    except Exception as e:  # a file the library refuses is reported, not fatal for the others
        out["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))
