#!/usr/bin/env python3
"""Reference verifier of a gstvault evidence bundle, written from VERIFY.txt
alone (Python 3 standard library; signatures through the minisign CLI).

    verify-bundle.py BUNDLE.zip --pubkey KEY.pub [--previous OLDER.zip]

Prints one line per finding and a verdict; exits 0 when the bundle is intact,
1 when it is not, 2 when it cannot be read; minisign reads copies of two tag files."""
import argparse, base64, collections, csv, hashlib, io, json, os, re, struct, subprocess, sys, tempfile, zipfile

MAX_ENTRIES = 200_000
TEXT_BUDGET = 512 << 20
TAGS = "bagit.txt bag-info.txt manifest-sha256.txt checkpoint.txt checkpoint.txt.minisig gstvault.pub VERIFY.txt".split()
BAGIT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
findings = []

def find(subject, message):
    findings.append(f"{subject[:200]}: {message}")

def sha(b):
    return hashlib.sha256(b).hexdigest()

def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()

def read_bundle(path):
    """(root, digests, texts): SHA-256 and size of every entry by its path below
    the bag root, and the bytes of the tag and proof files, after the structural
    checks; entries that fail one are not read."""
    z = zipfile.ZipFile(path)
    infos = z.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ValueError(f"{len(infos)} entries: refused")
    count = collections.Counter(i.filename for i in infos)
    for n in sorted(n for n, c in count.items() if c > 1):
        find(f"entry {n!r}", "appears twice in the ZIP")
    spans, good = [], []
    with open(path, "rb") as f:
        end = z.start_dir if hasattr(z, "start_dir") else os.path.getsize(path)
        for info in infos:
            n = info.filename
            if count[n] > 1 or info.is_dir():
                continue
            if n.startswith("/") or "\\" in n or "\0" in n or ".." in n.split("/"):
                find(f"entry {n!r}", "unsafe name: ignored")
                continue
            f.seek(info.header_offset)
            head = f.read(30)
            if len(head) < 30 or head[:4] != b"PK\x03\x04":
                find(f"entry {n!r}", "has no local header where the directory says")
                continue
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            local = f.read(name_len).decode("utf-8", "replace")
            if local != n:
                find(f"entry {n!r}", f"local header names {local[:200]!r}")
                continue
            stop = info.header_offset + 30 + name_len + extra_len + info.compress_size
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size or stop > end:
                find(f"entry {n!r}", "is not a stored entry inside the file")
                continue
            if spans and info.header_offset < spans[-1][1]:
                find(f"entry {n!r}", "is out of order: it starts before the entry listed before it ends")
            spans.append((info.header_offset, stop, n))
            good.append(info)
    spans.sort()
    bad = set()
    for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
        if b0 < a1:
            find(f"entry {bn!r}", f"overlaps entry {an!r}")
            bad |= {an, bn}
    root, digests, texts, budget = None, {}, {}, TEXT_BUDGET
    for info in good:
        top, _, rel = info.filename.partition("/")
        root = root or top
        if info.filename in bad:
            continue
        if top != root or not rel:
            find(f"entry {info.filename!r}", "is outside the bag folder")
            continue
        keep = not rel.startswith("data/snapshots/")
        if keep:
            budget -= info.file_size
            if budget < 0:
                find(f"file {rel}", "tag and proof files exceed the memory budget: refused")
                continue
        h, size, kept = hashlib.sha256(), 0, []
        with z.open(info) as entry:
            while chunk := entry.read(1 << 20):
                size += len(chunk)
                h.update(chunk)
                if keep:
                    kept.append(chunk)
        digests[rel] = (h.hexdigest(), size)
        if keep:
            texts[rel] = b"".join(kept)
    return root, digests, texts

def oxum_and_manifests(digests, files):
    def manifest(name, paths):
        listed = {}
        for line in files.get(name, b"").decode("utf-8", "replace").splitlines():
            m = re.fullmatch(r"([0-9a-f]{64})  (\S.*)", line)
            if not m:
                find(f"file {name}", f"line {line[:80]!r} is not `<sha256>  <path>`")
                continue
            listed[m.group(2)] = m.group(1)
            if m.group(2) not in digests:
                find(f"file {m.group(2)}", f"is listed in {name} but missing")
            elif digests[m.group(2)][0] != m.group(1):
                find(f"file {m.group(2)}", f"SHA-256 differs from {name}")
        for p in paths:
            if p not in listed:
                find(f"file {p}", f"is not listed in {name}")
    data = sorted(p for p in digests if p.startswith("data/"))
    manifest("manifest-sha256.txt", data)
    manifest("tagmanifest-sha256.txt", [t for t in TAGS if t in files])
    if files.get("bagit.txt") != BAGIT:
        find("file bagit.txt", "is not the BagIt 1.0 declaration")
    info = dict(l.split(": ", 1) for l in files.get("bag-info.txt", b"").decode().splitlines() if ": " in l)
    oxum = f"{sum(digests[p][1] for p in data)}.{len(data)}"
    if info.get("Payload-Oxum") != oxum:
        find("file bag-info.txt", f"Payload-Oxum {info.get('Payload-Oxum')!r} but the payload is {oxum}")
    return info

def minisign(files, name, pubkey, tmp):
    """Runs `minisign -V` on a file of the bundle; returns its trusted comment or None."""
    for n in (name, name + ".minisig"):
        with open(os.path.join(tmp, n), "wb") as f:
            f.write(files.get(n, b""))
    out = subprocess.run(["minisign", "-V", "-p", pubkey, "-m", os.path.join(tmp, name)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        find(f"file {name}.minisig", f"does not verify: {(out.stderr or out.stdout).strip()[:200]}")
        return None
    m = re.search(r"Trusted comment: (.*)", out.stdout)
    return m.group(1) if m else ""

def checkpoint(files):
    """(origin, size, root bytes) of checkpoint.txt, a C2SP signed note."""
    text, sep, sigs = files.get("checkpoint.txt", b"").decode("utf-8", "replace").partition("\n\n")
    lines = text.split("\n")
    if not sep or len(lines) < 3 or not lines[1].isdigit():
        find("file checkpoint.txt", "is not a signed checkpoint note")
        return None
    root = base64.b64decode(lines[2])
    if not sigs.startswith(f"\u2014 {lines[0]} ") or len(root) != 32:
        find("file checkpoint.txt", "has no note signature under its origin")
        return None
    return lines[0], int(lines[1]), root

def root_from_path(index, size, leaf, path):
    """RFC 9162 2.1.3.2: the root an inclusion proof leads to (None if malformed)."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None

def consistent(old_size, old_root, new_size, new_root, proof):
    """RFC 9162 2.1.4.2: verifies a consistency proof."""
    if old_size == new_size:
        return old_root == new_root and not proof
    if old_size == 0 or old_size > new_size or not proof:
        return False
    if old_size & (old_size - 1) == 0:
        proof = [old_root] + proof
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root

def proofs(digests, files, head, info):
    origin, size, root = head
    paths = {}
    for line in files.get("data/proofs/inclusion.txt", b"").decode().splitlines():
        if line and not line.startswith("#"):
            seq, *hashes = line.split()
            paths[int(seq)] = [bytes.fromhex(h) for h in hashes]
    by_file = {}
    for p in digests:
        m = re.fullmatch(r"data/snapshots/.+_s(\d+)(_p\d+)?\.json", p)
        if m:
            by_file[int(m.group(1))] = p
    records = {}
    for line in files.get("data/proofs/records.jsonl", b"").decode("utf-8", "replace").split("\n")[:-1]:
        rec = json.loads(line)
        seq = rec["seq"]
        records[seq] = (line, rec)
        leaf = hashlib.sha256(b"\x00" + hashlib.sha256(line.encode()).digest()).digest()
        if root_from_path(seq, size, leaf, paths.get(seq, [])) != root:
            find(f"snapshot {seq}", "inclusion proof does not lead to the checkpoint root")
        if seq in by_file and rec.get("body_sha256") != digests[by_file[seq]][0]:
            find(f"snapshot {seq}", f"{by_file[seq]} is not the body its log record names")
    for seq in by_file:
        if seq not in records:
            find(f"file {by_file[seq]}", "has no log record in records.jsonl")
    sightings = set()
    for n, row in enumerate(csv.DictReader(io.StringIO(files.get("data/index.csv", b"").decode()))):
        first = records.get(int(row["seq"]))
        last = records.get(int(row["last_seen_seq"]))
        if not first or not last:
            find(f"data/index.csv row {n + 1}", "names a log entry without a record in the bundle")
            continue
        (fline, f), (_, l) = first, last
        want = [(row["first_seen"], f["received_at"]), (row["last_seen"], l["received_at"]),
                (row["record_digest"], sha(fline.encode()))]
        want += [(row[k], str(f.get(k) if f.get(k) is not None else "")) for k in
                 ("endpoint", "period", "page", "outcome", "body_sha256", "payload_sha256", "origin")]
        want += [(str(l.get(k)), str(f.get(k))) for k in ("endpoint", "period", "page", "payload_sha256")]
        if any(a != b for a, b in want):
            find(f"data/index.csv row {n + 1}", "is not what its log records say")
        sightings.add(l["seq"])
    for seq, (_, rec) in records.items():
        if seq not in by_file and seq not in sightings and rec.get("body_sha256"):
            find(f"snapshot {seq}", "its snapshot file is missing")
    gstins = {rec["gstin"] for _, rec in records.values()}
    if gstins - {info.get("GSTIN")}:
        find("file data/proofs/records.jsonl", f"holds GSTINs {sorted(gstins)} for a bundle of {info.get('GSTIN')}")
    return records

def consistency(files, head, previous):
    text = files.get("data/proofs/consistency.txt")
    if text is None:
        if previous:
            find("previous bundle", "this bundle has no consistency proof to check it against")
        return
    f = dict(l.split(": ", 1) for l in text.decode().splitlines() if ": " in l)
    old = (int(f["old-size"]), bytes.fromhex(f["old-root"]))
    proof = [bytes.fromhex(h) for h in f.get("proof", "").split()]
    if not consistent(old[0], old[1], head[1], head[2], proof):
        find("file data/proofs/consistency.txt", "the consistency proof does not hold: the log was rewritten")
    if previous and (previous[1], previous[2]) != old:
        find("previous bundle", "this bundle's consistency proof starts from another checkpoint")

def verify(path, pubkey, previous=None):
    root, digests, files = read_bundle(path)
    info = oxum_and_manifests(digests, files)
    with tempfile.TemporaryDirectory() as tmp:
        minisign(files, "tagmanifest-sha256.txt", pubkey, tmp)
        comment = minisign(files, "checkpoint.txt", pubkey, tmp)
    head = checkpoint(files)
    if head:
        want = f"gstvault checkpoint origin={head[0]} size={head[1]} root={head[2].hex()}"
        if comment is not None and comment != want:
            find("file checkpoint.txt.minisig", "its trusted comment is not this checkpoint")
        proofs(digests, files, head, info)
        consistency(files, head, previous)
    return head, info

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--pubkey", required=True)
    ap.add_argument("--previous")
    a = ap.parse_args()
    try:
        previous = None
        if a.previous:
            prev_head, prev_info = verify(a.previous, a.pubkey)
            prior = list(findings)
            findings.clear()
            findings.extend(f"previous bundle: {f}" for f in prior)
            previous = (prev_info, prev_head[1], prev_head[2]) if prev_head else None
        head, info = verify(a.bundle, a.pubkey, previous)
        if previous and previous[0].get("GSTIN") != info.get("GSTIN"):
            find("previous bundle", f"is of GSTIN {previous[0].get('GSTIN')}, this one of {info.get('GSTIN')}")
        if previous and head and (previous[1] > head[1] or previous[0].get("As-Of", "") >= info.get("As-Of", "")):
            find("previous bundle", "is not older than this one (its checkpoint or as-of is not earlier)")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as e:
        print(f"error: {a.bundle}: {str(e)[:200]}", file=sys.stderr)
        return 2
    for f in findings[:100]:
        print(f)
    if len(findings) > 100:
        print(f"... and {len(findings) - 100} more findings")
    print(("NOT INTACT" if findings else "INTACT") + f": {len(findings)} finding(s)")
    return 1 if findings else 0

if __name__ == "__main__":
    sys.exit(main())
